"""What checking costs: the checksum of a full-width ResNet-18's files when they are written and read, and the check
a resumed 16-training run makes of its files, beside what a round of the quickstart takes to train.

    python bench/integrity_cost.py            # about 2 minutes on 2 CPU cores; run it on a quiet machine
"""
import argparse, contextlib, io, os, tempfile, time
from pathlib import Path

import torch

from data_efficient_lth import imp
from data_efficient_lth.files import save_atomic, load_checked, content_checksum, replace_atomic
from data_efficient_lth.models import resnet18
from data_efficient_lth.train import cpu_model


def best_of(f, repeat: int = 5) -> float:
    "The fastest of `repeat` calls of `f`, in seconds."
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def file_costs(folder: Path):
    "Writing and reading a full-width ResNet-18's weights, with and without the checksum."
    state = {"state": resnet18(num_classes=10).state_dict()}
    mb = sum(v.numel() * v.element_size() for v in state["state"].values()) / 1e6
    plain = lambda: replace_atomic(folder / "plain.pt", lambda f: torch.save(state, f))
    checked = lambda: save_atomic(state, folder / "checked.pt", "rewind")
    t_hash = best_of(lambda: content_checksum(state))
    t_plain, t_checked = best_of(plain), best_of(checked)
    t_load = best_of(lambda: torch.load(folder / "plain.pt", weights_only=True))
    t_load_checked = best_of(lambda: load_checked(folder / "checked.pt", "rewind"))
    print(f"ResNet-18 weights ({mb:.1f} MB): checksum {1000 * t_hash:.0f} ms; "
          f"atomic write {1000 * t_plain:.0f} ms plain, {1000 * t_checked:.0f} ms checked ({t_checked / t_plain:.2f}×); "
          f"read {1000 * t_load:.0f} ms plain, {1000 * t_load_checked:.0f} ms checked ({t_load_checked / t_load:.2f}×)")


def resume_cost(folder: Path, rounds: int):
    "A full-width run of `rounds + 1` one-epoch trainings, resumed: the time its file check takes."
    opts = dict(dataset="digits", per_class=10, rounds=rounds, epochs=1, rewind_epoch=0, out=folder / "run",
                progress=False, log=None)
    t0 = time.perf_counter()
    imp.run(**opts)
    made = time.perf_counter() - t0
    t_resume = best_of(lambda: imp.run(**opts), repeat=3)
    checked = {}
    original = imp._Driver.check_files
    def timed(self):
        t = time.perf_counter()
        original(self)
        checked["s"] = time.perf_counter() - t
    imp._Driver.check_files = timed
    try: imp.run(**opts)
    finally: imp._Driver.check_files = original
    print(f"a {rounds + 1}-training full-width run (made in {made:.0f} s), resumed with nothing left to train: "
          f"{t_resume:.1f} s in all, of which {checked['s']:.1f} s check its {rounds + 1} rounds' masks and weights "
          f"and the rewind state")
    epoch = imp.Run(folder / "run").results["train_seconds"].median()
    return checked["s"], epoch


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=15)
    args = p.parse_args()
    print(f"CPU: {cpu_model()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        file_costs(Path(tmp))
        check, epoch = resume_cost(Path(tmp), args.rounds)
    print(f"one training epoch of this network on 100 digits takes {epoch:.2f} s here, so a quickstart round "
          f"(60 epochs) about {60 * epoch:.0f} s: the check a resume makes costs {check / (60 * epoch):.0%} of one round")
