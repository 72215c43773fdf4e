"""Correctness beside speed: on digits at 10 images per class, the reference-style IMP (bench/reference.py) and
data_efficient_lth with its defaults reach the same accuracy within seed-to-seed noise. Prints per seed the dense
accuracy and the pruned rounds' final accuracies, then means ± std over seeds."""
import argparse, statistics as stt, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from reference import reference_imp, to_uint8
from machine import describe
from data_efficient_lth import imp
from data_efficient_lth.data import subset_indices, split
from data_efficient_lth.datasets import load_dataset


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=60)
    a = p.parse_args()
    d = load_dataset("digits")
    out = Path(tempfile.mkdtemp(prefix="dlth-digits-check-"))
    rows = {"a": [], "c": []}
    print(describe())
    print(f"digits, 10 per class (100 train / 1697 test), ResNet-18 small stem, {a.rounds} pruning rounds × {a.epochs} epochs, rewind 2")
    for s in a.seeds:
        idx = subset_indices(d.y_train, per_class=10, seed=s)
        xtr, ytr, xte, yte = split(d, idx)
        t = time.time()
        ref, _ = reference_imp(to_uint8(xtr), ytr, to_uint8(xte), yte, d.mean, d.std, 10, a.rounds, a.epochs, 2, s, hflip=False, pad=1)
        ta = time.time() - t; t = time.time()
        rn = imp.run(dataset="digits", per_class=10, rounds=a.rounds, epochs=a.epochs, seed=s, out=out / f"s{s}", progress=False, log=None)
        tc = time.time() - t
        accs_a, accs_c = [r["test_acc"] for r in ref], rn.results["test_acc"].tolist()
        rows["a"].append(accs_a); rows["c"].append(accs_c)
        print(f"seed {s}: (a) reference  " + " ".join(f"{x:.3f}" for x in accs_a) + f"   ({ta:.0f} s)")
        print("        (c) ours       " + " ".join(f"{x:.3f}" for x in accs_c) + f"   ({tc:.0f} s, {rn.results.iloc[0]['engine']})")
    def summary(k):
        dense = [r[0] for r in rows[k]]; tick = [sum(r[1:]) / len(r[1:]) for r in rows[k]]; last = [r[-1] for r in rows[k]]
        sd = lambda v: stt.stdev(v) if len(v) > 1 else 0.0
        return (f"dense {100 * stt.mean(dense):.1f} ± {100 * sd(dense):.1f}, tickets (mean of rounds 1..{a.rounds}) "
                f"{100 * stt.mean(tick):.1f} ± {100 * sd(tick):.1f}, last round {100 * stt.mean(last):.1f} ± {100 * sd(last):.1f}")
    print("(a) reference: " + summary("a"))
    print("(c) ours:      " + summary("c"))


if __name__ == "__main__":
    main()
