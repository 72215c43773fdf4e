"""Kornia (kornia.augmentation / kornia.enhance / kornia.geometry) against `data_efficient_lth.augment`.

Issue 14 asks whether Kornia should replace our batched per-image augmentations. For each of our operations this
script builds the Kornia call with the same ranges and

(a) equality: feeds Kornia the random parameters *we* drew (functional calls with our per-image values, or a
    module's `params=` dict filled from our draws) and prints the largest absolute difference, on CIFAR-shaped
    3×32×32 and digits-shaped 1×8×8 batches, with the fraction of pixels that differ for the nearest-pixel warps;
(b) speed: images/s for a batch of `--batch` 3×32×32 images, ours against Kornia, per operation and per policy,
    repetitions interleaved (ours, Kornia, ours, Kornia, ...) and the median reported, with the load average seen
    before and after timing (other processes share the CPUs).

It prints ratios; it is never a test. `--device cuda` runs the same on a GPU. Needs `pip install kornia`.
"""
import argparse, math, statistics, sys, time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from machine import describe

import kornia
import kornia.augmentation as KA
import kornia.enhance as KE
from kornia.augmentation.auto import AutoAugment, RandAugment
from kornia.color import rgb_to_grayscale
from kornia.geometry.transform import warp_affine

from data_efficient_lth import augment as A


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ")[0] if Path("/proc/loadavg").exists() else "?"


# ---------------------------------------------------------------- Kornia's versions of our per-image operations
def k_warp(x, A_ours, fill=0.):
    "Our `warp` matrix (output pixel, centred → input pixel, centred) as Kornia's source→destination pixel matrix."
    n, c, h, w = x.shape
    ctr = torch.tensor([(w - 1) / 2, (h - 1) / 2])
    back = torch.zeros(n, 3, 3)
    back[:, :2, :2] = A_ours[:, :, :2]
    back[:, :2, 2] = A_ours[:, :, 2] + ctr - (A_ours[:, :, :2] @ ctr)     # destination index → source index
    back[:, 2, 2] = 1
    M = torch.linalg.inv(back)[:, :2].to(x.device, x.dtype)
    if not fill: return warp_affine(x, M, (h, w), mode="nearest", padding_mode="zeros", align_corners=True)
    fv = torch.full((c,), float(fill), device=x.device, dtype=x.dtype)
    return warp_affine(x, M, (h, w), mode="nearest", padding_mode="fill", align_corners=True, fill_value=fv)


def rot_matrix(deg):
    t = deg * math.pi / 180
    m = torch.eye(2, 3).repeat(len(t), 1, 1)
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = t.cos(), -t.sin(), t.sin(), t.cos()
    return m


def shear_matrix(s, h):
    m = torch.eye(2, 3).repeat(len(s), 1, 1)
    m[:, 0, 1], m[:, 0, 2] = s, s * h / 2
    return m


def shift_matrix(px):
    m = torch.eye(2, 3).repeat(len(px), 1, 1)
    m[:, 0, 2] = -px
    return m


def k_gray(x): return rgb_to_grayscale(x, rgb_weights=torch.tensor([0.2989, 0.587, 0.114])).expand_as(x)


def cutout_params(x, g, size):
    "Our cutout's squares (clipped at the border) and fill (the image's mean) as RandomErasing's parameters."
    n, c, h, w = x.shape
    cy, cx = torch.randint(0, h, (n,), generator=g), torch.randint(0, w, (n,), generator=g)
    y0, x0 = (cy - size // 2).clamp(0, h), (cx - size // 2).clamp(0, w)
    y1, x1 = (cy + size - size // 2).clamp(0, h), (cx + size - size // 2).clamp(0, w)
    return dict(xs=x0.float(), ys=y0.float(), widths=(x1 - x0).float(), heights=(y1 - y0).float(),
                values=x.mean((1, 2, 3)).cpu(), batch_prob=torch.ones(n), forward_input_shape=torch.tensor(x.shape))


# ---------------------------------------------------------------- (a) equality with our parameters forced on Kornia
def equality_rows(x, seed=0):
    "(operation, max |ours − Kornia|, note) with Kornia fed the parameters we drew."
    n, c, h, w = x.shape
    g = torch.Generator().manual_seed(seed)
    f, sh = A.uniform(n, 0.05, 1.95, g), A.uniform(n, -0.5, 0.5, g)
    bits, th = torch.randint(1, 9, (n,), generator=g), A.uniform(n, 0, 1, g)
    deg, shr, px = A.uniform(n, -30, 30, g), A.uniform(n, -0.3, 0.3, g), A.uniform(n, -14, 14, g)
    rgb = c == 3
    rows = [("brightness", A.brightness(x, f), KE.adjust_brightness_accumulative(x, f), "multiplicative; Kornia's "
             "adjust_brightness (used by ColorJiggle/RandomBrightness) is additive"),
            ("contrast", A.contrast(x, f), KE.adjust_contrast_with_mean_subtraction(x, f),
             "Kornia's gray weights 0.299 vs torchvision's 0.2989"),
            ("saturation", A.saturation(x, f), KE.adjust_saturation_with_gray_subtraction(x, f) if rgb else None,
             "" if rgb else "Kornia refuses 1 channel; ours leaves it unchanged"),
            ("hue", A.hue(x, sh), KE.adjust_hue(x, sh * 2 * math.pi) if rgb else None,
             "" if rgb else "Kornia refuses 1 channel; ours leaves it unchanged"),
            ("sharpness", A.sharpness(x, f), KE.sharpness(x, f), ""),
            ("posterize", A.posterize(x, bits), KE.posterize(x, bits),
             "Kornia: PIL's 8-bit levels (8k/255, the release); ours: torchvision's float k/32"),
            ("solarize", A.solarize(x, th), KE.solarize(x, th), "Kornia inverts x ≥ t too"),
            ("autocontrast", A.autocontrast(x), KE.normalize_min_max(x).clamp(0, 1), "per image and channel"),
            ("equalize", A.equalize(x), KE.equalize(x), ""),
            ("invert", A.invert(x), KE.invert(x), ""),
            ("grayscale", A.grayscale(x), k_gray(x) if rgb else None, "" if rgb else "Kornia refuses 1 channel")]
    rows += [("rotate (nearest, fill 128)", A.rotate(x, deg, A.AUTOAUGMENT_FILL),
              k_warp(x, rot_matrix(deg), A.AUTOAUGMENT_FILL), "warp_affine given our matrix"),
             ("shear x (PIL's, fill 128)", A.shear(x, shr, "x", A.AUTOAUGMENT_FILL),
              k_warp(x, shear_matrix(shr, h), A.AUTOAUGMENT_FILL), "warp_affine given our matrix"),
             ("translate x (fill 0)", A.translate(x, px * w / 32, "x"), k_warp(x, shift_matrix(px * w / 32)),
              "warp_affine given our matrix")]
    # random modules, their params= filled with our draws
    gv = torch.Generator().manual_seed(seed + 1)
    flip = A.coin(n, 0.5, torch.Generator().manual_seed(seed + 1))
    vf = KA.RandomVerticalFlip()
    rows.append(("random_vflip (RandomVerticalFlip)", A.random_vflip(x, gv),
                 vf(x, params=dict(batch_prob=flip.float(), forward_input_shape=torch.tensor(x.shape))), ""))
    gg = A.coin(n, 0.2, torch.Generator().manual_seed(seed + 2))
    gs = KA.RandomGrayscale(p=0.2, rgb_weights=torch.tensor([0.2989, 0.587, 0.114]))
    rows.append(("random_grayscale (RandomGrayscale)", A.random_grayscale(x, torch.Generator().manual_seed(seed + 2)),
                 gs(x, params=dict(batch_prob=gg.float(), forward_input_shape=torch.tensor(x.shape))) if rgb else None,
                 "" if rgb else "Kornia refuses 1 channel"))
    k = max(3, int(0.1 * min(h, w)) // 2 * 2 + 1)
    gb = torch.Generator().manual_seed(seed + 3)
    sig, app = A.uniform(n, 0.1, 2.0, gb), A.coin(n, 0.5, gb)
    blur = KA.RandomGaussianBlur((k, k), (0.1, 2.0), border_type="reflect", p=0.5)
    rows.append(("gaussian_blur (RandomGaussianBlur)", A.gaussian_blur(x, torch.Generator().manual_seed(seed + 3)),
                 blur(x, params=dict(sigma=sig, batch_prob=app.float(), forward_input_shape=torch.tensor(x.shape))),
                 f"kernel {k}, reflect"))
    ers = KA.RandomErasing(p=1.0)
    rows.append(("cutout 16 (RandomErasing, our boxes)", A.cutout(x, torch.Generator().manual_seed(seed + 4), 16),
                 ers(x, params=cutout_params(x, torch.Generator().manual_seed(seed + 4), 16)),
                 "Kornia draws boxes inside the image and a constant fill; ours clips and fills with the mean"))
    # ColorJitter: one order per batch in Kornia; compare a fixed order (b, c, s, h) applied by our ops
    if rgb:
        gj = torch.Generator().manual_seed(seed + 5)
        fb, fc, fs = (A.uniform(n, 0.6, 1.4, gj) for _ in range(3))
        fh = A.uniform(n, -0.1, 0.1, gj)
        ours = A.hue(A.saturation(A.contrast(A.brightness(x, fb), fc), fs), fh)
        cj = KA.ColorJitter(0.4, 0.4, 0.4, 0.1, p=1.0)
        theirs = cj(x, params=dict(brightness_factor=fb, contrast_factor=fc, saturation_factor=fs, hue_factor=fh,
                                   order=torch.tensor([0, 1, 2, 3]), batch_prob=torch.ones(n),
                                   forward_input_shape=torch.tensor(x.shape)))
        rows.append(("color_jitter, one order (ColorJitter)", ours, theirs, "Kornia: one order per batch, ours per image"))
    out = []
    for name, a, b, note in rows:
        if b is None:
            out.append((name, None, None, note))
            continue
        d = (a - b).abs()
        out.append((name, float(d.max()), float((d > 1e-6).float().mean()), note))
    return out


def rrc_row(x, size, seed=0):
    "Random-resized crop: our boxes given to RandomResizedCrop as its `src` corners."
    n, c, h, w = x.shape
    g = torch.Generator().manual_seed(seed)
    ours = A.random_resized_crop(x, size, g)
    x0, y0, cw, ch = A._crop_boxes(n, h, w, torch.Generator().manual_seed(seed))   # the boxes it used
    src = torch.stack([torch.stack([x0, y0], 1), torch.stack([x0 + cw - 1, y0], 1),
                       torch.stack([x0 + cw - 1, y0 + ch - 1], 1), torch.stack([x0, y0 + ch - 1], 1)], 1)
    dst = torch.tensor([[0., 0.], [size - 1., 0.], [size - 1., size - 1.], [0., size - 1.]]).expand(n, 4, 2)
    rrc = KA.RandomResizedCrop((size, size), align_corners=False)
    theirs = rrc(x, params=dict(src=src, dst=dst, input_size=torch.tensor([[h, w]]).expand(n, 2),
                                output_size=torch.tensor([[size, size]]).expand(n, 2), batch_prob=torch.ones(n),
                                forward_input_shape=torch.tensor(x.shape)))
    d = (ours - theirs).abs()
    return ("random_resized_crop (RandomResizedCrop)", float(d.max()), float((d > 1e-6).float().mean()),
            "Kornia crops, then resizes: at the box edge it repeats the edge pixel; "
            "ours samples the whole image, so edge pixels blend with their neighbours outside the box")


# ---------------------------------------------------------------- (b) speed
def interleaved(fns: dict, reps: int, sync, target_s: float = 0.05) -> dict:
    "Median seconds per call of each function; every repetition runs each in turn, enough calls for `target_s`."
    inner = {}
    for k, fn in fns.items():
        fn(); sync()
        t = time.perf_counter(); fn(); sync()
        inner[k] = max(1, round(target_s / max(time.perf_counter() - t, 1e-6)))
    times = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t = time.perf_counter()
            for _ in range(inner[k]): fn()
            sync()
            times[k].append((time.perf_counter() - t) / inner[k])
    return {k: statistics.median(v) for k, v in times.items()}


def speed_rows(x, reps, sync):
    n, c, h, w = x.shape
    g = torch.Generator().manual_seed(0)
    f, sh = A.uniform(n, 0.05, 1.95, g), A.uniform(n, -0.5, 0.5, g)
    bits, th = torch.randint(1, 9, (n,), generator=g), A.uniform(n, 0, 1, g)
    deg, shr, px = A.uniform(n, -30, 30, g), A.uniform(n, -0.3, 0.3, g), A.uniform(n, -14, 14, g)
    fd, shd, bitsd, thd = (t.to(x.device) for t in (f, sh, bits, th))
    k = max(3, int(0.1 * min(h, w)) // 2 * 2 + 1)
    gl = torch.Generator().manual_seed(1)
    pairs = {
        "brightness": (lambda: A.brightness(x, f), lambda: KE.adjust_brightness_accumulative(x, fd)),
        "contrast": (lambda: A.contrast(x, f), lambda: KE.adjust_contrast_with_mean_subtraction(x, fd)),
        "saturation": (lambda: A.saturation(x, f), lambda: KE.adjust_saturation_with_gray_subtraction(x, fd)),
        "hue": (lambda: A.hue(x, sh), lambda: KE.adjust_hue(x, shd * 2 * math.pi)),
        "sharpness": (lambda: A.sharpness(x, f), lambda: KE.sharpness(x, fd)),
        "posterize": (lambda: A.posterize(x, bits), lambda: KE.posterize(x, bitsd)),
        "solarize": (lambda: A.solarize(x, th), lambda: KE.solarize(x, thd)),
        "autocontrast": (lambda: A.autocontrast(x), lambda: KE.normalize_min_max(x).clamp(0, 1)),
        "equalize": (lambda: A.equalize(x), lambda: KE.equalize(x)),
        "rotate": (lambda: A.rotate(x, deg, A.AUTOAUGMENT_FILL), lambda: k_warp(x, rot_matrix(deg), A.AUTOAUGMENT_FILL)),
        "shear x": (lambda: A.shear(x, shr, "x", A.AUTOAUGMENT_FILL),
                    lambda: k_warp(x, shear_matrix(shr, h), A.AUTOAUGMENT_FILL)),
        "translate x": (lambda: A.translate(x, px, "x"), lambda: k_warp(x, shift_matrix(px))),
    }
    # the random operations: ours drawing from a generator, Kornia drawing its own parameters (as it would be used)
    jitter = KA.ColorJitter(0.4, 0.4, 0.4, 0.1, p=0.8)
    gray = KA.RandomGrayscale(p=0.2)
    blur = KA.RandomGaussianBlur((k, k), (0.1, 2.0), border_type="reflect", p=0.5)
    erase = KA.RandomErasing(p=1.0, scale=(0.25, 0.25), ratio=(1.0, 1.0), value=0.5)
    rrc = KA.RandomResizedCrop((h, w), align_corners=False)
    vflip = KA.RandomVerticalFlip()
    affine = KA.RandomAffine(degrees=30, translate=(0.1, 0.1), shear=(-5.7, 5.7), padding_mode="zeros", p=1.0)
    pairs.update({
        "random_vflip": (lambda: A.random_vflip(x, gl), lambda: vflip(x)),
        "random_resized_crop": (lambda: A.random_resized_crop(x, h, gl), lambda: rrc(x)),
        "color_jitter p.8": (lambda: A.color_jitter(x, gl), lambda: jitter(x)),
        "random_grayscale p.2": (lambda: A.random_grayscale(x, gl), lambda: gray(x)),
        "gaussian_blur p.5": (lambda: A.gaussian_blur(x, gl), lambda: blur(x)),
        "cutout 16 / RandomErasing": (lambda: A.cutout(x, gl, 16), lambda: erase(x)),
        "rotate U(±30) / RandomAffine": (lambda: A.rotate(x, A.uniform(n, -30, 30, gl)), lambda: affine(x)),
    })
    # whole policies (their extra part after the base crop/flip); AutoAugment and RandAugment differ in distribution
    contrastive = torch.nn.Sequential(jitter, gray)
    aa = AutoAugment("cifar10")
    ra = RandAugment(n=4, m=10)
    pairs.update({
        "policy contrastive": (lambda: A.random_grayscale(A.color_jitter(x, gl), gl), lambda: contrastive(x)),
        "policy autoaugment (no cutout)": (lambda: A.autoaugment(x, gl, cutout_size=None), lambda: aa(x)),
        "policy randaugment (no cutout)": (lambda: A.randaugment(x, gl, cutout_size=None), lambda: ra(x)),
    })
    rows = []
    for name, (ours, theirs) in pairs.items():
        t = interleaved({"ours": ours, "kornia": theirs}, reps, sync)
        rows.append((name, n / t["ours"], n / t["kornia"]))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--reps", type=int, default=9)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-speed", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)
    print(describe(dev))
    print(f"kornia {kornia.__version__}, device {dev}")
    print("\n(a) equality, Kornia given our parameters: max |ours - Kornia| and the fraction of values that differ")
    for shape in [(3, 32, 32), (1, 8, 8)]:
        x = torch.rand(64, *shape, generator=torch.Generator().manual_seed(7)).to(dev)
        x8 = (x * 255).round() / 255                                  # 8-bit images, as the datasets are
        print(f"\n  {shape[0]}×{shape[1]}×{shape[2]}, 64 images")
        print(f"  {'operation':<40} {'max diff':>9} {'differ':>7}  note")
        for name, d, frac, note in equality_rows(x8) + [rrc_row(x8, shape[-1])]:
            dd = "n/a" if d is None else f"{d:.1e}" if d else "0"
            ff = "" if frac is None else f"{100 * frac:.1f}%"
            print(f"  {name:<40} {dd:>9} {ff:>7}  {note}")
    if a.skip_speed: return
    x = torch.rand(a.batch, 3, 32, 32, generator=torch.Generator().manual_seed(0)).to(dev)
    before = loadavg()
    rows = speed_rows(x, a.reps, sync)
    after = loadavg()
    print(f"\n(b) speed, batch {a.batch} × 3×32×32 on {dev}, threads {torch.get_num_threads()}, median of {a.reps} "
          f"interleaved repetitions; load average (1 min) {before} before, {after} after")
    print(f"  {'operation':<32} {'ours img/s':>11} {'kornia img/s':>13} {'kornia/ours':>12}")
    for name, ours, theirs in rows:
        print(f"  {name:<32} {ours:>11.0f} {theirs:>13.0f} {theirs / ours:>11.2f}x")


if __name__ == "__main__":
    main()
