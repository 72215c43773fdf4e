"""Throughput of N runs trained in one loop (batched.train_batched) against the same N runs one after another (train.train).

Same work both ways: N ResNet-18s (small stem) with their own initial weights, subsets drawn with their own seeds, the
base augmentation, batch 100, SGD with the paper's settings, the same engine (device, precision, channels-last, compile).
Data: CIFAR-shaped synthetic images (3×32×32, 10 classes; --shape to change), --per-class images of each class per run
(default 50: 500 training images, the issue's small-subset case). The first epoch of each is a warm-up (compilation,
cuDNN autotuning, allocator) and is not counted. Prints training images per second both ways and their ratio last.
"""
import argparse, sys, time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from machine import describe
from data_efficient_lth.augment import policy
from data_efficient_lth.batched import train_batched
from data_efficient_lth.data import Batches, split, subset_indices
from data_efficient_lth.datasets import load_dataset
from data_efficient_lth.models import get_model
from data_efficient_lth.train import Engine, TrainConfig, train


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=8)
    p.add_argument("--per-class", type=int, default=50)
    p.add_argument("--epochs", type=int, default=3, help="epochs per run, the first not counted (default 3)")
    p.add_argument("--shape", default="3,32,32")
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--device", default="auto")
    p.add_argument("--precision", default="auto")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None, help="torch.compile (default: on CUDA)")
    p.add_argument("--only", default="sb", help="s: sequential, b: batched (default both)")
    a = p.parse_args()
    if a.epochs < 2: p.error("--epochs must be ≥ 2: the first epoch is a warm-up")
    shape = tuple(int(v) for v in a.shape.split(","))
    eng = Engine(device=a.device, precision=a.precision, compile=a.compile)
    print(f"{describe(eng.dev)}; engine {eng.describe()}")
    ds = load_dataset("synthetic", shape=shape, num_classes=10, train_per_class=2 * a.per_class, test_size=100, seed=0)
    n_img = 10 * a.per_class
    print(f"work: {a.runs} runs × {n_img} training images ({'×'.join(map(str, shape))}), ResNet-18 small stem width {a.width}, batch 100, "
          f"{a.epochs} epochs each (the first a warm-up)", flush=True)
    cfg = TrainConfig(epochs=a.epochs, batch_size=100)
    aug = policy("base", ds)

    def setup():
        models, batches = [], []
        for s in range(a.runs):
            torch.manual_seed(s)
            models.append(get_model("resnet18", "small", shape[0], 10, a.width))
            xtr, ytr, _, _ = split(ds, subset_indices(ds.y_train, per_class=a.per_class, seed=s))
            batches.append(Batches(xtr, ytr, ds.mean, ds.std, 100, aug, ds.crop_pad, ds.hflip, eng.dev, seed=s))
        return models, batches

    def sync():
        if eng.dev.type == "cuda": torch.cuda.synchronize()

    rates = {}
    if "s" in a.only:
        models, batches = setup()
        counted = 0.0
        for m, b in zip(models, batches):
            hist = train(m, b, cfg, progress=False, engine=eng)
            counted += sum(h["train_seconds"] for h in hist[1:])
        sync()
        rates["sequential"] = a.runs * n_img * (a.epochs - 1) / counted
        print(f"sequential: {rates['sequential']:8.0f} training images/s ({a.runs} runs one after another, {counted:.1f} s counted)", flush=True)
        del models, batches
    if "b" in a.only:
        models, batches = setup()
        hists = train_batched(models, batches, cfg, progress=False, engine=eng)
        sync()
        counted = a.runs * sum(h["train_seconds"] for h in hists[0][1:])       # train_seconds is each run's share of the wall time
        rates["batched"] = a.runs * n_img * (a.epochs - 1) / counted
        print(f"batched:    {rates['batched']:8.0f} training images/s ({a.runs} runs in one loop, {counted:.1f} s counted)", flush=True)
    if len(rates) == 2:
        print(f"ratio batched / sequential: {rates['batched'] / rates['sequential']:.2f}×")


if __name__ == "__main__":
    main()
