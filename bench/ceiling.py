"""What this machine can do: bf16 and fp32 multiply-accumulates per second at ResNet-18's own convolutions.

A speed figure means something only beside the machine's limit. The ceiling here is the convolutions of a
small-stem ResNet-18 on 32×32 images alone, batch 100, channels-last, each timed forward and backward (input and
weight gradients), at their best: no BatchNorm, no activation, no optimizer, no data. Training that reached it would
spend every second in convolution kernels; a network's fraction of it says how much of the machine it uses.

    python bench/ceiling.py [--device cuda] [--precision bf16,fp32] [--image 1,8,8]

Also imported by the other benchmarks (`ceilings`, `macs_per_image`), which print each figure as a fraction of it.
"""
import argparse, sys, time
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).parent))
from machine import describe
from data_efficient_lth.models import resnet18

DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32}


def conv_shapes(model: nn.Module, image: tuple = (3, 32, 32)) -> list[tuple]:
    "Each convolution of `model` on one image: (module, input shape (C, H, W), output shape)."
    found, hooks = [], []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            hooks.append(module.register_forward_hook(
                lambda m, inputs, output: found.append((m, tuple(inputs[0].shape[1:]), tuple(output.shape[1:])))))
    with torch.no_grad(): model.eval()(torch.zeros(1, *image))
    for hook in hooks: hook.remove()
    return found


def conv_macs(module: nn.Conv2d, output_shape: tuple) -> int:
    "Multiply-accumulates of one image's forward pass through `module`."
    c_out, h, w = output_shape
    kh, kw = module.kernel_size
    return c_out * h * w * (module.in_channels // module.groups) * kh * kw


def macs_per_image(model: nn.Module, image: tuple = (3, 32, 32)) -> int:
    "Forward multiply-accumulates of one image through `model`'s convolutions and linear layers (training: about 3×)."
    convs = sum(conv_macs(m, out) for m, _, out in conv_shapes(model, image))
    linear = sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, nn.Linear))
    return convs + linear


def _timed(step, repeats: int, device: torch.device) -> float:
    "Median seconds of `step()` over `repeats` calls, after two warm-up calls."
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(2): step()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def ceiling(precision: str, device: torch.device, batch: int = 100, repeats: int = 5,
            image: tuple = (3, 32, 32)) -> dict:
    """GMAC/s of ResNet-18's convolutions alone in `precision` on `device`, on images of shape `image`: all of them
    (forward; forward + backward), and the peak, the fastest single convolution's forward pass, with each
    convolution's own figures."""
    model = resnet18(stem="small", in_channels=image[0])
    forward_s = backward_s = 0.0
    macs, shapes = 0, []
    for module, in_shape, out_shape in conv_shapes(model, image):
        conv = nn.Conv2d(module.in_channels, module.out_channels, module.kernel_size, module.stride, module.padding,
                         bias=False).to(device, DTYPES[precision], memory_format=torch.channels_last)
        x = torch.randn(batch, *in_shape, device=device, dtype=DTYPES[precision]).to(memory_format=torch.channels_last)
        x.requires_grad_(True)
        grad = torch.randn_like(conv(x))
        with torch.no_grad(): forward = _timed(lambda: conv(x), repeats, device)
        backward = _timed(lambda: torch.autograd.grad(conv(x), (x, conv.weight), grad), repeats, device)
        conv_mac = conv_macs(module, out_shape) * batch
        shapes.append({"shape": f"{in_shape[0]}→{out_shape[0]} {module.kernel_size[0]}×{module.kernel_size[1]} "
                                f"/{module.stride[0]} at {in_shape[1]}×{in_shape[2]}",
                       "forward_gmacs": conv_mac / forward / 1e9, "train_gmacs": 3 * conv_mac / backward / 1e9})
        forward_s, backward_s, macs = forward_s + forward, backward_s + backward, macs + conv_mac
    # the timed backward step runs the forward pass too: forward + backward = 3 × the forward MACs
    return {"precision": precision, "forward_gmacs": macs / forward_s / 1e9, "train_gmacs": 3 * macs / backward_s / 1e9,
            "peak_gmacs": max(shape["forward_gmacs"] for shape in shapes), "shapes": shapes}


def native_precisions(device: torch.device) -> tuple:
    """bf16 and fp32 where this device computes bf16 natively (AVX512-BF16, AMX, a GPU), else fp32 alone: measuring
    emulated bf16 on an AVX2 CPU takes minutes and says nothing anyone would train with."""
    from data_efficient_lth.train import resolve_precision
    return ("bf16", "fp32") if resolve_precision("auto", device) == "bf16" else ("fp32",)


def ceilings(device: torch.device, precisions=None, image: tuple = (3, 32, 32)) -> dict:
    "The machine's ceilings, by precision (default: those it computes natively)."
    return {p: ceiling(p, device, image=image) for p in (precisions or native_precisions(device))}


def fraction(images_per_s: float, macs: int, limit_gmacs: float) -> float:
    "The share of a ceiling that `images_per_s`, at `macs` multiply-accumulates an image, uses."
    return images_per_s * macs / 1e9 / limit_gmacs


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", default=None, help="e.g. bf16,fp32 (default: bf16 only where it is native, and fp32)")
    p.add_argument("--image", default="3,32,32", help="C,H,W of the images (default: 3,32,32)")
    args = p.parse_args()
    device = torch.device(args.device)
    print(describe(device))
    image = tuple(int(v) for v in args.image.split(","))
    macs = macs_per_image(resnet18(stem="small", in_channels=image[0]), image)
    print(f"small-stem ResNet-18 on {'×'.join(map(str, image))}: {macs / 1e9:.3f} GMAC forward, "
          f"{3 * macs / 1e9:.3f} GMAC forward + backward")
    precisions = args.precision.split(",") if args.precision else None
    for precision, limits in ceilings(device, precisions, image).items():
        print(f"ceiling {precision}: {limits['forward_gmacs']:.0f} GMAC/s forward (= {limits['forward_gmacs'] * 1e9 / macs:,.0f} "
              f"img/s), {limits['train_gmacs']:.0f} GMAC/s forward + backward (= {limits['train_gmacs'] * 1e9 / (3 * macs):,.0f} "
              f"img/s); peak {limits['peak_gmacs']:.0f} GMAC/s (the fastest convolution's forward pass)")
        for shape in limits["shapes"]:
            print(f"    {shape['shape']:24} forward {shape['forward_gmacs']:6.0f}  forward + backward {shape['train_gmacs']:6.0f} GMAC/s")

if __name__ == "__main__":
    main()
