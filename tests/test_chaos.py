"""Chaos at a small size: kills at every point of a batched round's end, kills of baselines and instability, flipped
bytes, two writers, a full disk, a diverging learning rate. Each ends in the uninterrupted result, bit for bit, or in
one clear line; nothing silently wrong. Runs go through `python -c` (the package's import is the cost here)."""
import json, os, shutil, signal, subprocess, sys, time
from pathlib import Path

import pytest, torch

from conftest import dlth
from data_efficient_lth.imp import Run

# 3 classes of 1×8×8 synthetic images, 10 per class, a ResNet-18 of width 0.125, 3 epochs a round: a second a round
CHAOS = dict(dataset="synthetic", dataset_kwargs={"shape": [1, 8, 8], "num_classes": 3, "train_per_class": 20,
             "test_size": 60}, per_class=10, width=0.125, epochs=3, rewind_epoch=1, batch_size=10)
FLAGS = ["--dataset", "synthetic", "--dataset-kwargs", json.dumps(CHAOS["dataset_kwargs"]), "--per-class", "10",
         "--width", "0.125", "--epochs", "3", "--rewind-epoch", "1", "--batch-size", "10", "--quiet"]
SCRIPT = """
import json, os, sys, time
from data_efficient_lth import imp
what, out, opts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
go = opts.pop("go", None)
while go and not os.path.exists(go): time.sleep(0.001)      # imported, ready: start when told
if what == "run": imp.run(out=out, progress=False, log=print, checkpoint_minutes=0, **opts)
if what == "batched":
    imp.run_batched([{**opts, "seed": s, "out": f"{out}/s{s}"} for s in (0, 1)], checkpoint_minutes=0, progress=False,
                    log=None)
if what == "at_init": imp.at_init(out, "snip", rounds=[1], progress=False)
if what == "instability": imp.instability(out, 1, [0], points=3, progress=False)
"""

def _cmd(what: str, out: Path, **opts) -> list:
    return [sys.executable, "-c", SCRIPT, what, str(out), json.dumps({**CHAOS, **opts})]

def _run(what: str, out: Path, **opts) -> subprocess.CompletedProcess:
    p = subprocess.run(_cmd(what, out, **opts), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p

def _kill_when(path: Path, cmd: list, timeout=600):
    "Start `cmd`, SIGKILL it as soon as `path` exists; refuse a run that ended first."
    p, t0 = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), time.time()
    while not path.exists():
        if p.poll() is not None: raise AssertionError(f"the run ended before {path} appeared: {p.stderr.read()}")
        if time.time() - t0 > timeout: p.kill(); raise AssertionError(f"{path} never appeared")
        time.sleep(0.001)
    p.send_signal(signal.SIGKILL); p.wait()

def _same_runs(a: Path, b: Path):
    "Every finished round of run `a` has the masks and weights of run `b`, and the same rewind state, bit for bit."
    ra, rb = Run(a), Run(b)
    assert ra.rounds_done == rb.rounds_done
    pairs = [(ra.rewind_state(), rb.rewind_state())]
    pairs += [pair for r in ra.rounds_done for pair in ((ra.mask(r), rb.mask(r)), (ra.state(r), rb.state(r)))]
    for x, y in pairs: assert list(x) == list(y) and all(torch.equal(x[k], y[k]) for k in x), a

def _leftovers(folder: Path) -> list:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp") or "checkpoint" in p.name]

@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    "Uninterrupted: a 3-round run, the same with 2 rounds, and two runs trained together."
    base = tmp_path_factory.mktemp("reference")
    _run("run", base / "three", rounds=3)
    _run("run", base / "two", rounds=2)
    _run("batched", base / "batched", rounds=2)
    return base

# a batched round's life: its group's checkpoints (the first written; one stepping aside while the next is written),
# and its end, saved run by run (weights, then metrics, then the other run's)
@pytest.mark.parametrize("where", ["s1/round_00/checkpoint.pt", "s0/round_01/checkpoint.previous.pt",
                                   "s0/round_01/weights.pt", "s0/round_01/metrics.json", "s1/round_01/weights.pt",
                                   "s1/round_02/metrics.json"])
def test_batched_runs_resume_bit_for_bit_after_a_kill(tmp_path, reference, where):
    out = tmp_path / "batched"
    _kill_when(out / where, _cmd("batched", out, rounds=2))
    _run("batched", out, rounds=2)
    for seed in ("s0", "s1"):
        _same_runs(out / seed, reference / "batched" / seed)
        assert not _leftovers(out / seed), _leftovers(out / seed)
        together = lambda run: [Run(run).metrics(r).get("batched_runs") for r in Run(run).rounds_done]
        assert together(out / seed) == together(reference / "batched" / seed) == [2, 2, 2]

def _flip(path: Path, n: int = 64):
    "Flip `n` bytes in the middle of `path`, as a failing disk might."
    raw = bytearray(path.read_bytes())
    mid = len(raw) // 2
    raw[mid:mid + n] = bytes(b ^ 0xFF for b in raw[mid:mid + n])
    path.write_bytes(bytes(raw))

def test_flipped_bytes_are_recomputed_bit_for_bit(tmp_path, reference):
    out = tmp_path / "run"
    shutil.copytree(reference / "two", out)
    damaged = [out / "round_01" / "weights.pt", out / "rewind.pt", out / "round_02" / "mask.pt"]
    before = {p: p.read_bytes() for p in damaged}
    for p in damaged: _flip(p)
    said = _run("run", out, rounds=2).stdout
    assert said.count("recomputed: bit for bit") == 3, said
    for p, data in before.items(): assert p.read_bytes() == data, p
    # a round checkpoint with flipped bytes: deleted, and its round restarts and ends as it would have
    _kill_when(out / "round_03" / "checkpoint.pt", _cmd("run", out, rounds=3))
    _flip(out / "round_03" / "checkpoint.pt")
    said = _run("run", out, rounds=3).stderr
    assert "round_03/checkpoint.pt is damaged" in said and "restarts from its first epoch" in said, said
    _same_runs(out, reference / "three")

def test_damage_that_cannot_be_recomputed_names_what_to_delete(tmp_path, reference):
    out = tmp_path / "run"
    shutil.copytree(reference / "two", out)
    (out / "round_01" / "metrics.json").write_text("{}")
    p = dlth("imp", *FLAGS, "--rounds", 2, "--out", out, check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "lacks round, remaining, test_acc" in p.stderr and "Delete round_01, round_02 in" in p.stderr
    shutil.rmtree(out / "round_01"); shutil.rmtree(out / "round_02")      # as it says
    _run("run", out, rounds=2)
    _same_runs(out, reference / "two")

def test_two_writers_one_refused(tmp_path, reference):
    out, go = tmp_path / "run", tmp_path / "go"
    second = subprocess.Popen(_cmd("run", out, rounds=2, go=str(go)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)                   # imports, then waits for its go
    first = subprocess.Popen(_cmd("run", out, rounds=2), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while not (out / "subset.json").exists():
        assert first.poll() is None, first.stderr.read()
        time.sleep(0.001)
    go.touch()
    _, said = second.communicate()
    assert second.returncode != 0 and f"is being written by process {first.pid} on" in said, said
    assert first.wait() == 0, first.stderr.read()
    _same_runs(out, reference / "two")
    assert not _leftovers(out)

def test_at_init_and_instability_resume_after_a_kill(tmp_path, reference):
    whole, out = tmp_path / "whole", tmp_path / "killed"
    shutil.copytree(reference / "two", whole); shutil.copytree(reference / "two", out)
    _run("at_init", whole)
    _kill_when(out / "branches" / "snip-round_01" / "mask.pt", _cmd("at_init", out))
    _run("at_init", out)
    for name in ("mask.pt", "weights.pt"):
        assert (out / "branches/snip-round_01" / name).read_bytes() == (whole / "branches/snip-round_01" / name).read_bytes()
    _run("instability", whole)
    _kill_when(out / "lmc" / "round_01" / "rewind_00" / "copy_b" / "history.json", _cmd("instability", out))
    _run("instability", out)
    path = "lmc/round_01/rewind_00/path-recompute-3.json"
    assert (out / path).read_text() == (whole / path).read_text()
    assert not _leftovers(out)

def test_a_diverging_learning_rate_stops_with_its_epoch(tmp_path):
    out = tmp_path / "blown"
    p = dlth("imp", *FLAGS, "--rounds", 1, "--lr", "1e4", "--out", out, check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert "round 0: The training loss became" in p.stderr and "e.g. --lr 1000)" in p.stderr, p.stderr
    assert not (out / "round_00" / "metrics.json").exists()
    p = dlth("imp", *FLAGS, "--rounds", 1, "--lr", "inf", "--out", tmp_path / "inf", check=False)
    assert p.returncode == 2 and "--lr inf: expected a number" in p.stderr and not (tmp_path / "inf").exists()

def test_a_full_disk_is_one_line_and_resumes_once_freed(tmp_path, reference):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(disk)],
                                                   capture_output=True).returncode == 0
    if not mounted: pytest.skip("a full disk needs a small tmpfs, which only root can mount here: not tested")
    try:
        out = disk / "run"
        p = dlth("imp", *FLAGS, "--rounds", 2, "--out", out, check=False)
        assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
        assert "No space left on device" in p.stderr and str(out) in p.stderr, p.stderr
        assert not list(out.rglob("*.tmp"))
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        _run("run", out, rounds=2)
        _same_runs(out, reference / "two")
    finally: subprocess.run(["umount", str(disk)])

def test_the_command_line_names_the_other_writer(tmp_path):
    out = tmp_path / "held"
    hold = ("import sys, time; from data_efficient_lth.files import writer_lock\n"
            "with writer_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(120)")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        p = dlth("imp", *FLAGS, "--rounds", 1, "--out", out, check=False)
    finally: holder.kill(); holder.wait()
    assert p.returncode == 2 and p.stderr.strip().splitlines() == [p.stderr.strip()], p.stderr
    assert f"dlth: error: {out} is being written by process {holder.pid} on" in p.stderr
