"`dlth sweep`: a grid of runs from the shell, resumable, summarised; a killed sweep continues where it stopped."
import csv, json, os, signal, subprocess, time

import torch

from conftest import BIN, dlth
from data_efficient_lth.cli import main
from data_efficient_lth.files import load_checked
from data_efficient_lth.imp import Run

SMALL = ["--dataset", "synthetic", "--dataset-kwargs", '{"shape": [1, 8, 8], "num_classes": 3, "train_per_class": 20, "test_size": 60}',
         "--width", "0.125", "--epochs", "3", "--rewind-epoch", "1", "--batch-size", "10", "--rounds", "1", "--quiet"]
GRID = ["--grid", "per_class=4,8", "--grid", "augment=base,contrastive", "--seeds", "0,1"]


def test_sweep_runs_every_cell_and_summarises(tmp_path):
    out = tmp_path / "sw"
    p = dlth("sweep", *GRID, *SMALL, "--out", out)
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [(r["per_class"], r["augment"], r["seeds"]) for r in rows] == [("4", "base", "2"), ("4", "contrastive", "2"),
                                                                          ("8", "base", "2"), ("8", "contrastive", "2")]
    cfg = json.loads((out / "per_class-8_augment-contrastive" / "seed1" / "config.json").read_text())["config"]
    assert (cfg["per_class"], cfg["augment"], cfg["seed"], cfg["epochs"]) == (8, "contrastive", 1, 3)
    assert "| per_class | augment | seeds |" in p.stdout and (out / "sweep.html").exists()
    shown = dlth("show", out).stdout
    assert "| 8 | contrastive | 2" in shown          # its seeds cell also says where a dense network did not learn
    # again: nothing is recomputed
    stamp = {q: q.stat().st_mtime_ns for q in out.rglob("*.pt")}
    dlth("sweep", *GRID, *SMALL, "--out", out)
    assert {q: q.stat().st_mtime_ns for q in stamp} == stamp


def test_sweep_refuses_bad_grid_and_other_common_options(tmp_path):
    p = dlth("sweep", "--grid", "per_class", *SMALL, "--out", tmp_path / "a", check=False)
    assert p.returncode == 2 and "OPTION=V1,V2" in p.stderr
    p = dlth("sweep", "--grid", "augment=base,mixup", *SMALL, "--per-class", "4", "--out", tmp_path / "b", check=False)
    assert p.returncode == 2 and "--augment 'mixup'" in p.stderr and not (tmp_path / "b").exists()
    dlth("sweep", "--grid", "per_class=4", "--seeds", "0", *SMALL, "--out", tmp_path / "c")
    p = dlth("sweep", "--grid", "per_class=4", "--seeds", "0", *SMALL, "--lr", "0.05", "--out", tmp_path / "c", check=False)
    assert p.returncode == 2 and "other common options" in p.stderr


def test_killed_sweep_resumes(tmp_path):
    out = tmp_path / "sw"
    args = [str(BIN / "dlth"), "sweep", "--grid", "per_class=4,8,12", "--seeds", "0", *SMALL, "--epochs", "8", "--out", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "per_class-8" / "seed0" / "round_00").exists(): time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL); proc.wait()
    first = out / "per_class-4" / "seed0"
    assert (first / "round_01" / "metrics.json").exists()
    done_before = first.joinpath("round_01", "metrics.json").stat().st_mtime_ns
    dlth(*args[1:])
    assert first.joinpath("round_01", "metrics.json").stat().st_mtime_ns == done_before
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [r["per_class"] for r in rows] == ["4", "8", "12"]


def test_batched_sweep_resumes_after_kill(tmp_path):
    "Two seeds trained in one loop (--batch-runs 2), killed after round 0: the rerun loads round 0 and trains round 1 of both together."
    out = tmp_path / "sw"
    args = [str(BIN / "dlth"), "sweep", "--grid", "per_class=4", "--seeds", "0,1", "--batch-runs", "2", *SMALL, "--epochs", "8", "--rounds", "2", "--out", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    runs = [out / "per_class-4" / f"seed{s}" for s in (0, 1)]
    deadline = time.time() + 120
    while time.time() < deadline and not all((r / "round_00" / "metrics.json").exists() for r in runs): time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL); proc.wait()
    stamps = [(r / "round_00" / "metrics.json").stat().st_mtime_ns for r in runs]
    assert [json.loads((r / "round_00" / "metrics.json").read_text())["batched_runs"] for r in runs] == [2, 2]
    p = dlth(*args[1:])
    assert [(r / "round_00" / "metrics.json").stat().st_mtime_ns for r in runs] == stamps
    for r in runs:
        assert json.loads((r / "round_02" / "metrics.json").read_text())["batched_runs"] == 2
    assert p.stdout.count("2 runs together") == 2
    bad = dlth("sweep", "--grid", "per_class=4", "--batch-runs", "0", *SMALL, "--out", tmp_path / "x", check=False)
    assert bad.returncode == 2 and "--batch-runs" in bad.stderr and not (tmp_path / "x").exists()


def test_sweep_keeps_runs_whose_grid_value_is_none(tmp_path):
    "--grid augment=none,base --grid per_class=none,4: every run trains and every one is in summary.csv, the table and dlth show."
    out = tmp_path / "sw"
    p = dlth("sweep", "--grid", "augment=none,base", "--grid", "per_class=none,4", "--seeds", "0", *SMALL, "--rounds", "0", "--out", out)
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [(r["augment"], r["per_class"], r["seeds"]) for r in rows] == [("none", "", "1"), ("none", "4", "1"), ("base", "", "1"), ("base", "4", "1")]
    cfg = json.loads((out / "augment-none_per_class-None" / "seed0" / "config.json").read_text())["config"]
    assert (cfg["augment"], cfg["per_class"]) == ("none", None)      # the policy 'none'; per_class None: every image
    for shown in (p.stdout, dlth("show", out).stdout):
        for cell in ("| none | none | 1", "| none | 4 | 1", "| base | none | 1", "| base | 4 | 1"):
            assert cell in shown, shown


def test_killed_sweep_resumes_its_round_from_the_checkpoint(tmp_path):
    "--checkpoint-minutes 0: a sweep killed mid-round leaves the round's checkpoint.pt; run again, it continues from there and ends as an uninterrupted sweep ends."
    grid = ["--grid", "per_class=8", "--seeds", "0", *SMALL, "--epochs", "20"]
    out, ref = tmp_path / "sw", tmp_path / "ref"
    args = [str(BIN / "dlth"), "sweep", *grid, "--checkpoint-minutes", "0", "--out", str(out)]
    run_dir = out / "per_class-8" / "seed0"
    checkpoint = run_dir / "round_01" / "checkpoint.pt"
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 120
    while not checkpoint.exists():
        assert proc.poll() is None, f"the sweep ended before {checkpoint} appeared: {proc.stderr.read()}"
        assert time.time() < deadline, f"{checkpoint} never appeared"
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL); proc.wait()
    assert not (run_dir / "round_01" / "metrics.json").exists()          # killed mid-round
    saved = load_checked(checkpoint, "round-checkpoint")["history"]
    assert saved                                                           # at least one epoch of round 1 in it
    dlth(*args[1:])
    assert main(["sweep", *grid, "--out", str(ref)]) == 0                # the same sweep, never interrupted
    resumed, uninterrupted = Run(run_dir), Run(ref / "per_class-8" / "seed0")
    # the resumed round kept the epochs the checkpoint held (their timings are those of the killed process)
    assert resumed.history(1)["seconds"].tolist()[:len(saved)] == [row["seconds"] for row in saved]
    assert resumed.rounds_done == uninterrupted.rounds_done == [0, 1] and not list(out.rglob("checkpoint.pt"))
    for r in resumed.rounds_done:
        a, b = resumed.mask(r), uninterrupted.mask(r)
        assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a), r
        sa, sb = resumed.state(r), uninterrupted.state(r)
        assert list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) for k in sa), r
