"make gpu-check: refuses cleanly where there is no GPU, and reads its steps' figures right."
import os, subprocess, sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import gpu_check


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU machine make gpu-check runs instead of refusing")
def test_gpu_check_refuses_on_a_cpu_in_one_line(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "bench/gpu_check.py"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "OUT": str(out)}, timeout=120)
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "needs a CUDA GPU" in done.stderr
    assert not out.exists(), "nothing may be written before the refusal"


def test_figures_read_from_the_steps_and_shares_of_the_ceilings():
    printed = ["small-stem ResNet-18 on 3×32×32: 0.555 GMAC forward, 1.666 GMAC forward + backward",
               "ceiling bf16: 900 GMAC/s forward (= 1,622 img/s), 800 GMAC/s forward + backward (= 480 img/s)",
               "ceiling fp32: 300 GMAC/s forward (= 540 img/s), 200 GMAC/s forward + backward (= 120 img/s)",
               "sequential:      120 training images/s (8 runs one after another, 3.0 s counted)",
               "batched:         360 training images/s (8 runs in one loop, 1.0 s counted)",
               "ratio batched / sequential: 3.00×",
               "(c) data_efficient_lth, defaults             cuda fp32                  60.0        50%      900.0"
               "        80%     12.0          0.50 h"]
    found = gpu_check.figures([{"tail": printed}])
    assert found["batched_ratio"] == 3.0 and found["protocol_projection_hours"] == 0.5
    assert found["batched_share_of_ceiling"] == round(360 * 1.666 / 800, 3)
    assert found["sequential_share_of_ceiling"] == round(120 * 1.666 / 800, 3)
    assert found["protocol_train_share_of_ceiling"] == round(60 * 1.666 / 200, 3)
