"""Training on small images: where the time goes, and what the 1×1-output product and channels-last layout buy.

On 8×8 digits the maps of a small-stem ResNet-18 shrink to 1×1 in `layer4`; oneDNN's backward pass for such a
convolution is slow on CPUs without AVX-512, while the same function as a matrix product (`models.conv3x3`) is not.
This prints, on this machine:

1. each convolution whose output is 1×1, forward + backward, as oneDNN runs it and as the product;
2. a training step (forward, backward, SGD; batch 100, full width) at 8×8, 16×16 and 32×32, before (every
   convolution through oneDNN, channels-last only in bf16) and after (channels-last, the product where the output
   is 1×1),
   with the images a second and the share of the machine's ceiling for that image shape (`ceiling.py`: the
   convolutions alone at their best, counted at their nominal 3×3 multiply-accumulates, so the product, which
   skips the taps that meet the padding, can pass 100%);
3. with --bf16-cost, a step at 8×8 in bf16 beside fp32, also where bf16 is emulated (what a warning is about).

    python bench/small_conv.py [--sizes 8,16,32] [--precision fp32] [--bf16-cost]
"""
import argparse, os, sys, time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from machine import describe
from ceiling import ceiling, macs_per_image, conv_shapes, native_precisions
import data_efficient_lth.models as models
from data_efficient_lth.models import resnet18, conv3x3
from data_efficient_lth.train import resolve_precision

DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32}


def _median_ms(step, repeats: int) -> float:
    for _ in range(2): step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * sorted(times)[len(times) // 2]


def one_by_one_outputs(image: tuple, repeats: int) -> list[str]:
    "Each distinct convolution with a 1×1 output: oneDNN's forward + backward against the product's, in fp32."
    lines, seen = [], set()
    for module, in_shape, out_shape in conv_shapes(resnet18(stem="small", in_channels=image[0]), image):
        key = (module.in_channels, module.out_channels, module.kernel_size, module.stride, in_shape)
        if out_shape[1:] != (1, 1) or module.kernel_size != (3, 3) or key in seen: continue
        seen.add(key)
        conv = nn.Conv2d(module.in_channels, module.out_channels, 3, module.stride, 1, bias=False)
        conv = conv.to(memory_format=torch.channels_last)
        x = torch.randn(100, *in_shape).contiguous(memory_format=torch.channels_last).requires_grad_()
        def step(fast):
            out = conv3x3(conv, x, fast)
            torch.autograd.grad(out.square().sum(), (x, conv.weight))
        slow, fast = _median_ms(lambda: step(False), repeats), _median_ms(lambda: step(True), repeats)
        lines.append(f"  {module.in_channels}→{module.out_channels} 3×3 /{module.stride[0]} at "
                     f"{in_shape[1]}×{in_shape[2]}: oneDNN {slow:6.1f} ms, product {fast:5.1f} ms, {slow / fast:4.1f}×")
    return lines


def training_step(image: tuple, precision: str, after: bool, repeats: int) -> float:
    "Median ms of a training step of a full-width small-stem ResNet-18 on 100 images of shape `image`."
    plain = models.conv3x3
    if not after: models.conv3x3 = lambda conv, x, fast=True: conv(x)        # every convolution through oneDNN
    try:
        # before: the engine's old layout, channels-last only in bf16
        layout = torch.channels_last if after or precision == "bf16" else torch.contiguous_format
        model = resnet18(stem="small", in_channels=image[0], num_classes=10).to(memory_format=layout).train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        x = torch.randn(100, *image).contiguous(memory_format=layout)
        y = torch.randint(0, 10, (100,))
        def step():
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return _median_ms(step, repeats)
    finally: models.conv3x3 = plain


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="8,16,32")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--precision", default="auto",
                   help="auto (bf16 where native), or fp32: with ONEDNN_MAX_CPU_ISA=AVX2, what an AVX2-only CPU runs")
    p.add_argument("--bf16-cost", action="store_true", help="also time a bf16 step at 8×8, native or not")
    args = p.parse_args()
    cpu = torch.device("cpu")
    print(describe(cpu))
    precision = resolve_precision(args.precision, cpu)
    print(f"training precision: {precision} ({args.precision})")
    for size in (int(s) for s in args.sizes.split(",")):
        image = (1 if size == 8 else 3, size, size)
        name = "×".join(map(str, image))
        lines = one_by_one_outputs(image, args.repeats)
        if lines: print(f"\nconvolutions with a 1×1 output on {name}, fp32, forward + backward:", *lines, sep="\n")
        limit = ceiling(precision, cpu, image=image)["train_gmacs"]
        macs = 3 * macs_per_image(resnet18(stem="small", in_channels=image[0]), image)
        repeats = args.repeats if size < 32 else 3
        before, after = (training_step(image, precision, a, repeats) for a in (False, True))
        print(f"\ntraining step on {name}, {precision}, batch 100 (ceiling here {limit:.0f} GMAC/s):")
        for label, ms in (("before (oneDNN only)", before), ("after (channels-last, product)", after)):
            rate = 100 / (ms / 1000)
            print(f"  {label:34} {ms:7.1f} ms  {rate:7.0f} img/s  {rate * macs / 1e9 / limit:5.0%} of the ceiling")
        print(f"  after / before: {before / after:.2f}× the images a second")
    if args.bf16_cost:
        capped = os.environ.get("ONEDNN_MAX_CPU_ISA", "ALL").upper() not in ("ALL", "AVX512_CORE_AMX", "AVX10_1_512_AMX")
        native = "native" if "bf16" in native_precisions(cpu) and not capped else "emulated"
        fp32, bf16 = (training_step((1, 8, 8), prec, True, args.repeats) for prec in ("fp32", "bf16"))
        print(f"\n8×8 step: fp32 {fp32:.1f} ms, bf16 ({native} here) {bf16:.1f} ms: bf16 takes {bf16 / fp32:.2f}× fp32's time")


if __name__ == "__main__":
    main()
