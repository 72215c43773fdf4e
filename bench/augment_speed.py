"""Cost of each augmentation policy against the training step it feeds.

For CIFAR-shaped batches (100 × 3×32×32) on the chosen device, times each policy of `augment.POLICIES` (plus
"+blur") per batch, and one training step of the small-stem ResNet-18 (bf16 where the device computes it), and
prints both and their ratio. The policies are batched tensor operations with per-image parameters; the
question is whether any of them makes training noticeably slower.
"""
import argparse, sys, time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from machine import describe
from data_efficient_lth.augment import policy, POLICIES
from data_efficient_lth.data import normalize
from data_efficient_lth.datasets import load_dataset
from data_efficient_lth.models import resnet18
from data_efficient_lth.train import Engine


def timeit(fn, reps, sync):
    fn(); sync()
    t = time.perf_counter()
    for _ in range(reps): fn()
    sync()
    return (time.perf_counter() - t) / reps


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto"); p.add_argument("--reps", type=int, default=10); p.add_argument("--batch", type=int, default=100)
    a = p.parse_args()
    eng = Engine(device=a.device)
    dev = eng.dev
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)
    data = load_dataset("synthetic", shape=(3, 32, 32), num_classes=10, train_per_class=a.batch // 10, test_size=10)
    x = data.x_train.to(dev).float() / 255
    g = torch.Generator().manual_seed(0)
    model = eng.prepare(resnet18())
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    y = data.y_train.to(dev)
    def step():
        with eng.autocast(): out = model(eng.inputs(normalize(x, data.mean, data.std)))
        loss = F.cross_entropy(out.float(), y); opt.zero_grad(); loss.backward(); opt.step()
    t_step = timeit(step, max(2, a.reps // 2), sync)
    print(describe(eng.dev))
    print(f"device {dev} ({eng.describe()}), batch {len(x)} of 3×32×32; one training step: {1000 * t_step:.1f} ms")
    print(f"{'policy':<22} {'ms/batch':>9} {'% of a step':>12}")
    for name in list(POLICIES) + ["contrastive+blur"]:
        fn = policy(name, data)
        if fn is None: continue
        t = timeit(lambda: fn(x, g), a.reps, sync)
        print(f"{name:<22} {1000 * t:>9.2f} {100 * t / t_step:>11.1f}%")


if __name__ == "__main__":
    main()
