"Kill an IMP run mid-round, run it again: it resumes and ends exactly where an uninterrupted run ends."
import signal, subprocess, time
from pathlib import Path

import pytest, torch

from conftest import BIN, dlth, TINY
from data_efficient_lth.imp import Run

ROUNDS = 3

def _kill_when(path: Path, args, timeout=300):
    "Start `dlth imp`, SIGKILL it as soon as `path` exists; returns whether it was killed mid-round."
    p = subprocess.Popen([str(BIN / "dlth"), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not path.exists():
        if p.poll() is not None: raise AssertionError(f"the run ended before {path} appeared: {p.stderr.read()}")
        if time.time() - t0 > timeout: p.kill(); raise AssertionError(f"{path} never appeared")
        time.sleep(0.005)
    p.send_signal(signal.SIGKILL); p.wait()
    return not (path.parent / "metrics.json").exists()

@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    dlth("imp", *TINY, "--rounds", ROUNDS, "--out", out)
    return Run(out)

@pytest.mark.parametrize("kill_round", [0, 1])
def test_kill_and_resume_gives_the_same_masks(tmp_path, reference, kill_round):
    out = tmp_path / "run"
    args = ["imp", *TINY, "--rounds", ROUNDS, "--out", out, "--checkpoint-minutes", 0]
    # killed mid-round: after the round saved a checkpoint, before it finished
    assert _kill_when(out / f"round_{kill_round:02d}" / "checkpoint.pt", list(map(str, args)))
    killed = Run(out)
    assert killed.rounds_done == list(range(kill_round))
    done_before = {p: p.stat().st_mtime_ns for r in killed.rounds_done for p in (out / f"round_{r:02d}").iterdir()}
    res = dlth(*args)
    assert "(done before: loaded)" in res.stdout or kill_round == 0
    rn = Run(out)
    assert rn.rounds_done == list(range(ROUNDS + 1))
    for p, t in done_before.items(): assert p.stat().st_mtime_ns == t, f"{p} was rewritten"
    for r in range(ROUNDS + 1):
        a, b = rn.mask(r), reference.mask(r)
        assert list(a) == list(b)
        for k in a: assert torch.equal(a[k], b[k]), (r, k)
        sa, sb = rn.state(r), reference.state(r)
        for k in sb: assert torch.equal(sa[k], sb[k]), (r, k)
    assert not list(out.rglob("checkpoint.pt"))
    assert rn.results["test_acc"].tolist() == reference.results["test_acc"].tolist()

def test_truncated_round_checkpoint_is_named_and_the_round_restarts(tmp_path):
    out = tmp_path / "run"
    dlth("imp", *TINY, "--rounds", 1, "--epochs", 4, "--out", out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name not in ("results.csv", "report.html")}
    ck = out / "round_02" / "checkpoint.pt"
    ck.parent.mkdir(); ck.write_bytes(b"\x00garbage")
    p = dlth("imp", *TINY, "--rounds", 2, "--epochs", 4, "--out", out)
    assert "round_02/checkpoint.pt could not be read" in p.stderr and "restarts from its first epoch" in p.stderr
    assert "Traceback" not in p.stderr and Run(out).rounds_done == [0, 1, 2]
    for f, data in before.items():
        if f.name not in ("config.json", "mask.pt", ".writer.lock"): assert f.read_bytes() == data, f

# the options that buy tickets for less resume the same way: an early-bird round 0 killed before its stop tracks on from
# its checkpoint's weights (the same distances, the same stopping epoch); a learning-rate-rewound round restarts from
# the last round's trained weights
FOR_LESS = {"early_bird": (["--search", "early_bird", "--eb-epsilon", "0.5", "--eb-window", "3"], 0),
            "lr": (["--rewind-to", "lr", "--round-epochs", "4"], 1)}

@pytest.mark.parametrize("option", FOR_LESS)
def test_kill_and_resume_tickets_for_less(tmp_path, option):
    extra, kill_round = FOR_LESS[option]
    args = ["imp", *TINY, *extra, "--rounds", 2]
    dlth(*args, "--out", tmp_path / "reference")
    reference, out = Run(tmp_path / "reference"), tmp_path / "run"
    resumable = list(map(str, [*args, "--out", out, "--checkpoint-minutes", 0]))
    assert _kill_when(out / f"round_{kill_round:02d}" / "checkpoint.pt", resumable)
    dlth(*resumable)
    rn = Run(out)
    assert rn.rounds_done == [0, 1, 2]
    for r in range(3):
        assert rn.history(r).drop(columns=["train_seconds", "seconds", "eval_seconds"], errors="ignore").equals(
            reference.history(r).drop(columns=["train_seconds", "seconds", "eval_seconds"], errors="ignore")), r
        for k, v in reference.mask(r).items(): assert torch.equal(rn.mask(r)[k], v), (r, k)
        for k, v in reference.state(r).items(): assert torch.equal(rn.state(r)[k], v), (r, k)
    if option == "early_bird":
        stop = rn.metrics(0)["early_bird_epoch"]
        assert stop == reference.metrics(0)["early_bird_epoch"] == 3 and len(rn.history(0)) == 3
    else: assert rn.history(1)["epoch"].tolist() == [9, 10, 11, 12]
    assert rn.results["train_passes"].tolist() == reference.results["train_passes"].tolist()
