"""IMP written the way the paper's released code does it, for speed and accuracy comparisons.

DataLoader over PIL images with torchvision transforms, fp32 NCHW, torch.nn.utils.prune.global_unstructured with
its forward hooks, a CosineAnnealingLR stepped per epoch, and evaluation on the whole test set after every
epoch. Same model (data_efficient_lth's small-stem ResNet-18), same recipe. Not part of the package.
"""
import copy, time, warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune
import torchvision.transforms as T
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from data_efficient_lth.models import resnet18


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    "0–1 float images as uint8, the form the reference pipeline starts from."
    return x if x.dtype == torch.uint8 else (x * 255).round().to(torch.uint8)


class PILImages(Dataset):
    "uint8 images N×C×H×W held as PIL images, transformed one at a time."
    def __init__(self, x_uint8: torch.Tensor, y: torch.Tensor, transform):
        arr = x_uint8.permute(0, 2, 3, 1).numpy()
        self.imgs = [Image.fromarray(a[..., 0] if a.shape[-1] == 1 else a) for a in arr]
        self.y, self.transform = y.tolist(), transform
    def __len__(self): return len(self.imgs)
    def __getitem__(self, i): return self.transform(self.imgs[i]), self.y[i]


def reference_imp(x_train, y_train, x_test, y_test,   # uint8 N×C×H×W tensors and int labels
                  mean, std, num_classes, rounds=1, epochs=5, rewind_epoch=2, seed=0,
                  hflip=True, pad=4, prune_rate=0.2, batch_size=100, test_batch_size=100, width=1.0, log=None):
    "Returns per-round rows (final test accuracy, density) and the train/eval seconds and image counts."
    torch.manual_seed(seed); np.random.seed(seed)
    c, h, w = x_train.shape[1:]
    model = resnet18(stem="small", in_channels=c, num_classes=num_classes, width=width)
    aug = [T.RandomCrop(h, padding=pad)] + ([T.RandomHorizontalFlip()] if hflip else [])
    norm = [T.ToTensor(), T.Normalize(mean, std)]
    train_loader = DataLoader(PILImages(x_train, y_train, T.Compose(aug + norm)), batch_size=batch_size, shuffle=True, num_workers=0)
    test_loader = DataLoader(PILImages(x_test, y_test, T.Compose(norm)), batch_size=test_batch_size, shuffle=False, num_workers=0)
    convs = [(m, "weight") for m in model.modules() if isinstance(m, nn.Conv2d)]
    stats = {"train_seconds": 0.0, "eval_seconds": 0.0, "train_images": 0, "eval_images": 0, "train_epochs": 0, "evals": 0}
    rows, rewind = [], (copy.deepcopy(model.state_dict()) if rewind_epoch == 0 else None)

    def evaluate():
        t = time.time(); model.eval(); correct = 0
        with torch.no_grad():
            for xb, yb in test_loader: correct += (model(xb).argmax(1) == yb).sum().item()
        stats["eval_seconds"] += time.time() - t; stats["eval_images"] += len(test_loader.dataset); stats["evals"] += 1
        return correct / len(test_loader.dataset)

    for r in range(rounds + 1):
        if r > 0:
            prune.global_unstructured(convs, pruning_method=prune.L1Unstructured, amount=prune_rate)
            sd = model.state_dict()                      # rewind: weight_orig and everything else
            for k, v in rewind.items(): sd[k + "_orig" if k + "_orig" in sd else k].copy_(v)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
        start = 0 if r == 0 else rewind_epoch
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(start): sched.step()
        best = 0.0
        for epoch in range(start, epochs):
            t = time.time(); model.train()
            for xb, yb in train_loader:
                loss = F.cross_entropy(model(xb), yb)
                opt.zero_grad(); loss.backward(); opt.step()
                stats["train_images"] += len(yb)
            sched.step()
            stats["train_seconds"] += time.time() - t; stats["train_epochs"] += 1
            if r == 0 and epoch + 1 == rewind_epoch:
                rewind = {k: v.clone() for k, v in model.state_dict().items()}
            acc = evaluate(); best = max(best, acc)
        n = sum(m.weight.numel() for m, _ in convs)
        alive = sum(int((m.weight != 0).sum()) for m, _ in convs)
        rows.append({"round": r, "remaining": 100 * alive / n, "test_acc": acc, "best_epoch_test_acc_chosen_on_test": best})
        if log: log(f"  reference round {r}: {100 * alive / n:.1f}% remaining, test acc {acc:.2%}")
    return rows, stats
