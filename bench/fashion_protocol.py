"""The paper's protocol on Fashion-MNIST at 50 images per class, one seed: 16 trainings × 200 epochs in fp32.

    python bench/fashion_protocol.py [--budget SECONDS] [--out DIR] [--device auto] [--per-class 50]

Trains (or resumes) one run and starts no round that would end past the budget. Prints every finished round with
both accuracies (running and recomputed BatchNorm statistics), the verdict, and, when not all 16 trainings are
done, the whole run's time projected from the rounds measured, labelled as a projection. A step of make gpu-check
(the Fashion-MNIST files travel in data/fashion-mnist, put there by make gpu-wheels). On 2 CPU cores it takes days.
"""
import argparse, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class OutOfTime(Exception): "The next round would end past the budget."


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=200, help="seconds of training at most (default 200)")
    parser.add_argument("--out", default="gpu-check/fashion-mnist-50", help="the run directory (resumed)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=200, help="the paper's 200; fewer only to try the script out")
    parser.add_argument("--width", type=float, default=1.0, help="the paper's 1.0; less only to try the script out")
    args = parser.parse_args()
    from data_efficient_lth import imp
    from data_efficient_lth.train import pick_device, device_name
    start, rounds = time.time(), 16

    def stop_in_time(r, model):
        "Before round r: go on only if a round as long as the slowest so far still ends within the budget."
        done = imp.Run(args.out).results
        longest = float(done["seconds"].max()) if len(done) else 0.0
        if r > 0 and time.time() - start + longest > args.budget: raise OutOfTime

    print(f"Fashion-MNIST, {args.per_class} per class, seed 0: ResNet-18 (width {args.width:g}), 15 rounds × "
          f"{args.epochs} epochs, fp32, on {device_name(pick_device(args.device))}", flush=True)
    try: imp.run(dataset="fashion_mnist", per_class=args.per_class, rounds=rounds - 1, epochs=args.epochs,
                 width=args.width, precision="fp32", device=args.device, out=args.out, progress=False, log=None,
                 on_round_start=stop_in_time)
    except OutOfTime: pass
    run = imp.Run(args.out)
    print(run.table.to_string())
    print(run.verdict())
    seconds = run.results["seconds"]
    n = len(seconds)
    if n < rounds:
        per_pruned = (float(seconds[seconds.index > 0].mean()) if n > 1 else
                      float(seconds.iloc[0]) * (args.epochs - 2) / args.epochs)       # rounds ≥ 1 start at epoch 2
        whole = float(seconds.sum()) + (rounds - n) * per_pruned
        print(f"trainings done: {n} of {rounds} in {seconds.sum():.0f} s; PROJECTION (not measured): the 16 trainings "
              f"take about {whole / 60:.1f} min")
    else: print(f"trainings done: {n} of {rounds} in {seconds.sum():.0f} s (measured, the whole protocol)")


if __name__ == "__main__":
    main()
