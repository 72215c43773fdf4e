"""One line naming the machine a benchmark ran on: CPU model and its bf16 units, cores, torch, threads, GPU."""
import os, platform
from pathlib import Path

import torch

from data_efficient_lth.train import cpu_model   # one definition, also recorded in every run


def describe(device: torch.device | None = None) -> str:
    gpu = f", GPU {torch.cuda.get_device_name()}" if device is not None and device.type == "cuda" else ""
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA")
    return (f"machine: {cpu_model()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, threads {torch.get_num_threads()}"
            + (f", ONEDNN_MAX_CPU_ISA={isa}" if isa else "") + gpu)
