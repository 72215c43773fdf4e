import subprocess, sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
# a tiny but complete IMP: synthetic 3×16×16 images, narrow ResNet-18, rounds of 12 epochs (batch 50, lr 0.05: the dense
# network learns; at batch 100 and lr 0.1, 24 steps left it below chance, which the verdict now reports)
TINY = ["--dataset", "synthetic", "--dataset-kwargs", '{"shape": [3, 16, 16], "num_classes": 4, "train_per_class": 60, "test_size": 80}',
        "--per-class", "50", "--width", "0.25", "--epochs", "12", "--rewind-epoch", "2", "--batch-size", "50", "--lr", "0.05", "--quiet"]

def dlth(*args, check=True, **kw):
    "Run the installed `dlth` console script; returns the CompletedProcess."
    p = subprocess.run([str(BIN / "dlth"), *map(str, args)], capture_output=True, text=True, **kw)
    if check and p.returncode != 0: raise AssertionError(f"dlth {' '.join(map(str, args))} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p

@pytest.fixture
def tiny_args(): return list(TINY)
