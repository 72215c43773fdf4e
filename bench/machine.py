"""One line naming the machine a benchmark ran on: CPU model and its bf16 units, cores, torch, threads, GPU."""
import os, platform
from pathlib import Path

import torch


def cpu_model() -> str:
    "The CPU's model name from /proc/cpuinfo, with the bf16 units it has (AMX, AVX512-BF16)."
    try: info = Path("/proc/cpuinfo").read_text()
    except OSError: return platform.processor() or platform.machine()
    name = next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name")), platform.machine())
    units = [u for u, flag in (("AMX", "amx_bf16"), ("AVX512-BF16", "avx512_bf16")) if flag in info]
    return f"{name} ({', '.join(units) or 'no native bf16'})"


def describe(device: torch.device | None = None) -> str:
    gpu = f", GPU {torch.cuda.get_device_name()}" if device is not None and device.type == "cuda" else ""
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA")
    return (f"machine: {cpu_model()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, threads {torch.get_num_threads()}"
            + (f", ONEDNN_MAX_CPU_ISA={isa}" if isa else "") + gpu)
