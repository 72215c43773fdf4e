"""Speed of an IMP search: the paper's implementation style against data_efficient_lth, on the same work.

  (a) reference style (bench/reference.py): DataLoader over PIL images, fp32 NCHW, torch.nn.utils.prune hooks,
      evaluation on the full test set after every epoch;
  (b) data_efficient_lth with the same every-epoch evaluation;
  (c) data_efficient_lth with its defaults (evaluation at the end of each round).

Same model (small-stem ResNet-18), subset, epochs, rounds and seed. Data: CIFAR-shaped synthetic images
(3×32×32, 10 classes), 50 per class for training, 10,000 test images. Prints images/s for training and
evaluation, a projection of the paper's full protocol from the measured costs, and the end-to-end ratios last.
"""
import argparse, json, sys, tempfile, time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from reference import reference_imp, to_uint8
from machine import describe
from ceiling import ceilings, macs_per_image
from data_efficient_lth.models import resnet18
from data_efficient_lth import imp
from data_efficient_lth.datasets import load_dataset
from data_efficient_lth.train import Engine

FULL_ROUNDS, FULL_EPOCHS, FULL_REWIND = imp.IMPConfig.rounds, 200, 2   # 15 pruning rounds: the paper's 16 trainings


def ours(data, args, eval_every, out):
    t = time.time()
    rn = imp.run(data=data, rounds=args.rounds, epochs=args.epochs, rewind_epoch=args.rewind_epoch, seed=args.seed, eval_every=eval_every,
                 precision=args.precision, out=out, engine=Engine(device=args.device, precision=args.precision, compile=args.compile),
                 progress=False, log=None)
    wall = time.time() - t
    res = rn.results
    hist = [rn.history(r) for r in rn.rounds_done]
    n_train, n_test = len(rn.subset), len(data.x_test)
    stats = {"train_seconds": float(res["train_seconds"].sum()), "eval_seconds": float(res["eval_seconds"].sum()),
             "train_epochs": int(sum(len(h) for h in hist)), "evals": int(sum(h["test_acc"].notna().sum() for h in hist))}
    stats.update(train_images=stats["train_epochs"] * n_train, eval_images=stats["evals"] * n_test)
    return wall, stats, res["test_acc"].tolist(), res.iloc[0]["engine"]


def projection(stats, evals_per_training):
    "Seconds for the full protocol (16 trainings, 200 + 15·198 epochs) from the measured per-epoch and per-evaluation costs."
    epochs = FULL_EPOCHS + FULL_ROUNDS * (FULL_EPOCHS - FULL_REWIND)
    evals = epochs if evals_per_training == "epoch" else FULL_ROUNDS + 1
    return epochs * stats["train_seconds"] / stats["train_epochs"] + evals * stats["eval_seconds"] / stats["evals"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=1, help="pruning rounds after the dense round (default 1: 2 trainings)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--rewind-epoch", type=int, default=2)
    p.add_argument("--per-class", type=int, default=50)
    p.add_argument("--test-size", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--only", default="abc", help="which of a, b, c to run (default: all)")
    p.add_argument("--precision", default="auto", help="auto (bf16 where native), bf16 or fp32 (default: auto; fp32 with --full)")
    p.add_argument("--full", action="store_true", help="the paper's protocol: 16 trainings × 200 epochs in fp32, as the release (for a GPU)")
    p.add_argument("--json", default=None, help="also write the figures to this file")
    p.add_argument("--ceiling", action=argparse.BooleanOptionalAction, default=True,
                   help="first measure the machine's bf16 and fp32 ceilings and print each figure as a share of its own")
    args = p.parse_args()
    if args.full: args.rounds, args.epochs, args.rewind_epoch, args.precision = FULL_ROUNDS, FULL_EPOCHS, FULL_REWIND, "fp32"
    eng = Engine(device=args.device, precision=args.precision, compile=args.compile)
    print(describe(eng.dev))
    limits = ceilings(eng.dev) if args.ceiling else {}
    macs = macs_per_image(resnet18(stem="small"))
    for precision, limit in limits.items():
        print(f"ceiling {precision} (ResNet-18's convolutions alone): {limit['train_gmacs']:.0f} GMAC/s training, "
              f"{limit['forward_gmacs']:.0f} GMAC/s evaluation (peak, the fastest one: {limit['peak_gmacs']:.0f}); "
              f"{3 * macs / 1e9:.2f} GMAC a training image, "
              f"{macs / 1e9:.2f} an evaluation image", flush=True)
    ds = load_dataset("synthetic", shape=(3, 32, 32), num_classes=10, train_per_class=args.per_class, test_size=args.test_size, seed=args.seed)
    print(f"work: {len(ds.x_train)} training images, {len(ds.x_test)} test images, ResNet-18 (small stem), "
          f"{args.rounds + 1} trainings ({args.epochs} epochs, rewind to epoch {args.rewind_epoch}), seed {args.seed}", flush=True)
    results = {}
    tmp = Path(tempfile.mkdtemp(prefix="dlth-bench-"))
    if "a" in args.only:
        if eng.dev.type != "cpu": print("(a) runs on the CPU, as the reference style's DataLoader + PIL pipeline does its data work there")
        t = time.time()
        rows, st = reference_imp(to_uint8(ds.x_train), ds.y_train, to_uint8(ds.x_test), ds.y_test, ds.mean, ds.std, 10, args.rounds, args.epochs,
                                 args.rewind_epoch, args.seed, hflip=True, pad=4,
                                 log=lambda m: print(m, flush=True))
        results["a"] = dict(name="(a) reference style, eval every epoch", wall=time.time() - t, stats=st,
                            acc=[r["test_acc"] for r in rows], engine="cpu fp32 NCHW, prune hooks", proj=projection(st, "epoch"))
    for key, ev, name in (("b", 1, "(b) data_efficient_lth, eval every epoch"), ("c", 0, "(c) data_efficient_lth, defaults")):
        if key in args.only:
            wall, st, acc, engine = ours(ds, args, ev, tmp / key)
            results[key] = dict(name=name, wall=wall, stats=st, acc=acc, engine=engine, proj=projection(st, "epoch" if ev else "round"))
            print(f"  {name}: done in {wall:.1f} s", flush=True)
    print()
    print(f"{'':44} {'engine':34} {'train img/s':>11} {'of ceiling':>10} {'eval img/s':>10} {'of ceiling':>10} "
          f"{'wall s':>8} {'full protocol (projection)':>27}")
    for k, r in results.items():
        st = r["stats"]
        train_rate, eval_rate = st["train_images"] / st["train_seconds"], st["eval_images"] / st["eval_seconds"]
        limit = limits.get("bf16" if "bf16" in r["engine"] else "fp32")
        train_share = f"{train_rate * 3 * macs / 1e9 / limit['train_gmacs']:10.0%}" if limit else f"{'':10}"
        eval_share = f"{eval_rate * macs / 1e9 / limit['forward_gmacs']:10.0%}" if limit else f"{'':10}"
        r.update(train_img_s=train_rate, eval_img_s=eval_rate)
        print(f"{r['name']:44} {r['engine']:34} {train_rate:11.1f} {train_share} {eval_rate:10.1f} {eval_share} "
              f"{r['wall']:8.1f} {r['proj'] / 3600:22.2f} h")
    print("final test accuracy per round: " + "; ".join(f"{k}: " + " ".join(f"{a:.3f}" for a in r["acc"]) for k, r in results.items()))
    if "a" in results:
        for k in "bc":
            if k in results:
                print(f"projected full-protocol ratio a/{k}: {results['a']['proj'] / results[k]['proj']:.1f}x")
    if args.json: Path(args.json).write_text(json.dumps({"ceilings": limits, "runs": results}, indent=1))
    for k in "bc":
        if "a" in results and k in results:
            print(f"end-to-end a/{k}: {results['a']['wall'] / results[k]['wall']:.1f}x")


if __name__ == "__main__":
    main()
