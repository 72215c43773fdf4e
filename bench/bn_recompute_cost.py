"""What recomputing BatchNorm statistics costs, and what it changes: the second accuracy every round records.

    python bench/bn_recompute_cost.py         # about 2 minutes on 2 CPU cores; run it on a quiet machine

1. Cost: `train.evaluate_recomputed` against a plain evaluation of the 10,000 Fashion-MNIST test images, for 500
   training images (50 per class) at widths 0.25 and 1, beside a training epoch of the same network.
2. Effect: a digits run of 150 training images (15 per class) and 12 epochs, full width, fp32: its dense network's
   accuracy with the running statistics and with recomputed ones.
"""
import os, tempfile, time
from pathlib import Path

import torch
import torch.nn.functional as F

from data_efficient_lth import imp
from data_efficient_lth.data import split, normalize, to_float
from data_efficient_lth.datasets import load_dataset
from data_efficient_lth.rundir import IMPConfig, build_model, choose_subset
from data_efficient_lth.train import Engine, evaluate, evaluate_recomputed, cpu_model


def best_of(f, repeat: int = 3) -> float:
    "The fastest of `repeat` calls of `f`, in seconds."
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter(); f(); times.append(time.perf_counter() - t0)
    return min(times)


def costs():
    "Seconds of a plain evaluation, of one with recomputed statistics, and of a training epoch, by width."
    fashion, engine = load_dataset("fashion_mnist"), Engine("cpu", precision="fp32")
    cfg = IMPConfig(dataset="fashion_mnist", per_class=50)
    x_train, y_train, x_test, y_test = split(fashion, choose_subset(fashion, cfg))
    for width in (0.25, 1.0):
        torch.manual_seed(0)
        model = build_model(IMPConfig(dataset="fashion_mnist", width=width), fashion)
        plain = best_of(lambda: evaluate(model, x_test, y_test, fashion.mean, fashion.std, engine))
        both = best_of(lambda: evaluate_recomputed(model, x_train, x_test, y_test, fashion.mean, fashion.std, engine))
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        x = normalize(to_float(x_train), fashion.mean, fashion.std)
        def epoch():
            model.train()
            for i in range(0, len(x), 100):
                loss = F.cross_entropy(model(x[i:i + 100]), y_train[i:i + 100])
                opt.zero_grad(); loss.backward(); opt.step()
        train_epoch = best_of(epoch, repeat=2)
        print(f"width {width:g}: evaluation of 10,000 test images {plain:.1f} s; with the statistics recomputed on "
              f"{len(x_train)} training images {both:.1f} s (+{both - plain:.1f} s, {both / plain:.1f}×); "
              f"a training epoch of {len(x_train)} images {train_epoch:.1f} s, so the recomputation costs "
              f"{(both - plain) / train_epoch:.1f} training epochs")


def effect():
    "The digits run of 150 images and 12 epochs: dense accuracy with running and with recomputed statistics."
    out = Path(tempfile.mkdtemp()) / "digits-150"
    run = imp.run(dataset="digits", per_class=15, rounds=0, epochs=12, precision="fp32", out=out, progress=False,
                  log=None)
    m = run.metrics(0)
    print(f"digits, 150 training images, 12 epochs, full width, fp32, seed 0: test accuracy {m['test_acc']:.1%} with "
          f"the running statistics, {m['test_acc_bn']:.1%} with recomputed ones")


if __name__ == "__main__":
    print(cpu_model(), f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    costs()
    effect()
