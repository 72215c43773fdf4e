"The dlth console script does what imp.run does, and fails on bad input with one clear line."
import json, os, subprocess

import pytest

from conftest import BIN, dlth, TINY
from data_efficient_lth import imp
from data_efficient_lth.files import LOCK

def test_imp_prints_a_row_per_round_and_a_verdict(tmp_path):
    out = tmp_path / "run"
    p = dlth("imp", *TINY, "--rounds", 2, "--epochs", 4, "--out", out)
    lines = p.stdout.splitlines()
    header = next(i for i, l in enumerate(lines) if l.split()[:2] == ["round", "remaining%"])
    rows = [l.split() for l in lines[header + 1:header + 4]]
    assert [r[0] for r in rows] == ["0", "1", "2"]
    assert [float(r[1]) for r in rows] == pytest.approx([100.0, 80.0, 64.0], abs=0.01)
    assert lines[-2].startswith("dense ") and "best ticket" in lines[-2] and "chosen on the test set" in lines[-2]
    assert lines[-1] == f"report: {out / 'report.html'}" and (out / "report.html").stat().st_size > 1_000_000
    cfg = json.loads((out / "config.json").read_text())["config"]
    assert (cfg["epochs"], cfg["width"], cfg["per_class"]) == (4, 0.25, 50)
    shown = dlth("show", out).stdout
    assert "test acc %" in shown and "engine" not in shown and shown.strip().splitlines()[-1] == lines[-2]
    (out / "report.html").unlink()
    assert dlth("report", out).stdout.strip() == str(out / "report.html") and (out / "report.html").exists()
    p = dlth("report", tmp_path / "nothing", check=False)
    assert p.returncode == 2 and "nothing does not exist" in p.stderr
    p = dlth("show", tmp_path, check=False)            # a folder of runs: its runs are named
    assert p.returncode == 2 and f"holds runs, but is not one: give one of them ({out})" in p.stderr, p.stderr

def test_cli_and_python_make_the_same_run(tmp_path):
    out_cli, out_py = tmp_path / "cli", tmp_path / "py"
    dlth("imp", *TINY, "--rounds", 1, "--epochs", 3, "--out", out_cli)
    kw = json.loads(json.dumps({"dataset_kwargs": {"shape": [3, 16, 16], "num_classes": 4, "train_per_class": 60, "test_size": 80}}))
    rn = imp.run(dataset="synthetic", per_class=50, rounds=1, epochs=3, width=0.25, rewind_epoch=2, batch_size=50, lr=0.05, out=out_py,
                 progress=False, log=None, **kw)
    assert json.loads((out_cli / "config.json").read_text()) == json.loads((out_py / "config.json").read_text())
    assert imp.Run(out_cli).results["test_acc"].tolist() == rn.results["test_acc"].tolist()

@pytest.mark.parametrize("args, message", [
    (["--per-class", "1000"], "has only 60 images"),
    (["--dataset", "cifar11"], "Unknown dataset 'cifar11'"),
    (["--arch", "resnet9"], "Unknown architecture 'resnet9'"),
    (["--rounds", "-2"], "--rounds -2"),
    (["--epochs", "0"], "--epochs 0: expected a whole number of training epochs"),
    (["--prune-rate", "1"], "--prune-rate 1.0"),
    (["--rewind-epoch", "99"], "--rewind-epoch 99"),
])
def test_bad_input_is_one_clear_line(tmp_path, args, message):
    out = tmp_path / "never"
    p = dlth("imp", *TINY, "--rounds", 1, "--epochs", 3, *args, "--out", out, check=False)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr and "Traceback" not in p.stderr
    assert not out.exists()

def test_other_config_or_foreign_directory_is_refused_untouched(tmp_path):
    out = tmp_path / "run"
    dlth("imp", *TINY, "--rounds", 1, "--epochs", 3, "--out", out)
    # the writer lock records the process that last held the folder, refused or not: no part of the run
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != LOCK}
    p = dlth("imp", *TINY, "--rounds", 1, "--epochs", 3, "--seed", 1, "--out", out, check=False)
    assert p.returncode == 2 and "--seed 0 there, 1 now" in p.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != LOCK} == before
    mine = tmp_path / "mine"; mine.mkdir(); (mine / "results.xlsx").write_text("precious")
    p = dlth("imp", *TINY, "--rounds", 1, "--out", mine, check=False)
    assert p.returncode == 2 and "not a data_efficient_lth run directory" in p.stderr
    assert [f.name for f in mine.iterdir()] == ["results.xlsx"]

def test_finetune_command(tmp_path):
    out = tmp_path / "run"
    dlth("imp", *TINY, "--rounds", 1, "--epochs", 3, "--out", out)
    p = dlth("finetune", out, "--round", 1, "--epochs", 2, "--quiet")
    assert "fine-tuned at lr 0.001 for 2 epochs" in p.stdout
    assert (out / "finetune" / "round_01-lr0.001-e2" / "metrics.json").exists()
    p = dlth("finetune", out, "--round", 5, check=False)
    assert p.returncode == 2 and "Round 5 is not finished" in p.stderr

def test_baseline_commands(tmp_path):
    out = tmp_path / "run"
    dlth("imp", *TINY, "--rounds", 2, "--epochs", 3, "--out", out)
    p = dlth("baseline", out, "reinit", "--round", 2, "--quiet")
    assert "re-initialised round 2 (seed 1)" in p.stdout and (out / "branches" / "reinit-round_02-seed1" / "metrics.json").exists()
    p = dlth("baseline", out, "small-dense", "--round", 2, "--quiet")
    assert "small dense network (width" in p.stdout
    cfg = json.loads((out / "branches" / "small-dense-round_02" / "config.json").read_text())["config"]
    assert cfg["width"] < 0.25 and cfg["rounds"] == 0          # narrower than the run's width 0.25
    p = dlth("baseline", out, "reinit", "--round", 7, check=False)
    assert p.returncode == 2 and "Round 7 is not finished" in p.stderr

def test_a_log_gets_the_cost_and_one_line_per_epoch(tmp_path):
    "Output to a pipe (a log, a batch job): the cost before training, a time estimate, one plain line per epoch, no frames."
    p = dlth("imp", *[a for a in TINY if a != "--quiet"], "--rounds", 1, "--epochs", 3, "--out", tmp_path / "run")
    assert "\r" not in p.stdout + p.stderr
    lines = p.stdout.splitlines()
    assert lines[1] == "cost: 2 trainings, 4 epochs × 200 training images = 800 image passes, and a 80-image test pass per round"
    assert any(l.startswith("time: ") and "(round 0, 2 epochs timed)" in l and "for the 1 training epoch left" in l for l in lines)
    epochs = [l for l in p.stderr.splitlines() if " epochs" in l]
    assert epochs[0].startswith("round 0/1 (100.0%): 1/3 epochs, loss ") and any(l.startswith("round 0/1 (100.0%): 3/3 epochs") for l in epochs)
    assert any(l.startswith("round 1/1 (80.0%): 1/1 epochs") for l in epochs)

def test_is_the_ticket_special_from_the_shell(tmp_path):
    "What is pruned and where it starts, pruning at initialisation, a ticket exported and carried to another run."
    out = tmp_path / "run"
    dlth("imp", *TINY, "--rounds", 2, "--epochs", 3, "--keep-dense", "stem.*", "--layerwise", "--out", out)
    cfg = json.loads((out / "config.json").read_text())["config"]
    assert (cfg["keep_dense"], cfg["layerwise"]) == (["stem.*"], True) and "stem.conv.weight" not in imp.Run(out).mask(2)
    p = dlth("at-init", out, "synflow", "--rounds", "2", "--quiet")
    table = p.stdout.splitlines()
    assert table[0].split() == ["remaining", "%", "IMP", "synflow"] and table[-1].split()[0] == "2"
    assert (out / "branches" / "synflow-round_02" / "metrics.json").exists()
    assert "baselines at the same densities" in dlth("show", out).stdout
    p = dlth("instability", out, "--round", 2, "--rewind-epochs", "0,1", "--points", 3, "--quiet")
    rows = [line.split() for line in p.stdout.splitlines()[1:]]
    assert p.stdout.split()[:2] == ["rewind_epoch", "instability"] and [r[1] for r in rows] == ["0", "1"]
    assert (out / "lmc" / "round_02" / "rewind_01" / "path-recompute-3.json").exists()
    ticket = tmp_path / "ticket.pt"
    p = dlth("export", out, "--round", 2, "--out", ticket)
    assert p.stdout.startswith("Ticket(round 2 of synthetic") and ticket.exists()
    p = dlth("export", out, "--round", 2, "--out", ticket, check=False)
    assert p.returncode == 2 and "exists: nothing was written" in p.stderr
    moved = tmp_path / "moved"
    dlth("imp", *TINY, "--rounds", 1, "--epochs", 3, "--keep-dense", "stem.*", "--seed", 1, "--start-mask", ticket,
         "--out", moved)
    assert json.loads((moved / "start_mask.json").read_text())["kind"] == "ticket"
    p = dlth("at-init", out, "obd", check=False)
    assert p.returncode == 2 and "invalid choice: 'obd'" in p.stderr
    p = dlth("imp", *TINY, "--rounds", 1, "--keep-dense", "stme.*", "--out", tmp_path / "never", check=False)
    assert p.returncode == 2 and "'stme.*' matches no layer" in p.stderr and not (tmp_path / "never").exists()

@pytest.mark.parametrize("args, message", [
    (["--grid", "per_class=4", "--seeds", "a,b"], "dlth: error: --seeds 'a,b': expected whole numbers"),
    (["--grid", "per_class=abc"], "dlth: error: --grid per_class: 'abc' is not a whole number or none"),
])
def test_sweep_names_the_option_of_a_bad_number(tmp_path, args, message):
    out = tmp_path / "never"
    tiny = [a for a, before in zip(TINY, [None, *TINY]) if "--per-class" not in (a, before)]     # per_class is in the grid
    p = dlth("sweep", *args, *tiny, "--out", out, check=False)
    assert p.returncode == 2 and p.stderr.splitlines() == [p.stderr.strip()] and p.stderr.startswith(message), p.stderr
    assert not out.exists()

def _one_line(p) -> str:
    "The one line `dlth` printed on a failure it explains (no traceback), status 2."
    assert p.returncode == 2 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    return p.stderr.strip()

@pytest.mark.parametrize("command", [["imp"], ["sweep", "--grid", "augment=base", "--seeds", "0"]])
def test_out_on_a_file_is_one_line_naming_it(tmp_path, command):
    "--out names a file, or a folder inside one (ENOTDIR): the line names the path and says to choose a folder."
    mine = tmp_path / "results.txt"; mine.write_text("precious")
    for out in (mine, mine / "run"):
        line = _one_line(dlth(*command, *TINY, "--rounds", 1, "--epochs", 3, "--out", out, check=False))
        assert line.startswith("dlth: error: ") and str(out) in line and "is a file" in line and "choose a folder" in line, line
    assert mine.read_text() == "precious"

def _in_a_mount_namespace(mount: str, folder, args):
    "`dlth *args` with `folder` mounted by the shell command `mount` (on $0) in a user and mount namespace of its own; None where there is none."
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", mount, str(folder)], capture_output=True)
    if probe.returncode != 0: return None
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", mount + ' && exec "$@"', str(folder), str(BIN / "dlth"),
                           *map(str, args)], capture_output=True, text=True)

def test_read_only_out_is_one_line_naming_it(tmp_path):
    "A folder we may not write (EACCES), or a read-only file system (EROFS) as root, where chmod does not stop writes."
    ro = tmp_path / "ro"; ro.mkdir()
    args = ["imp", *TINY, "--rounds", 1, "--epochs", 3, "--out", ro / "run"]
    if os.geteuid() != 0:
        ro.chmod(0o500)
        try: p = dlth(*args, check=False)
        finally: ro.chmod(0o700)
    elif (p := _in_a_mount_namespace('mount --bind "$0" "$0" && mount -o remount,bind,ro "$0"', ro, args)) is None:
        pytest.skip("running as root, where chmod 0o500 does not stop writes, and no user namespace here for a read-only mount")
    line = _one_line(p)
    assert line.startswith(f"dlth: error: {ro / 'run'}: ") and "choose a writable --out" in line, line

def test_full_disk_is_one_line_naming_the_file(tmp_path):
    "ENOSPC: a 100 kB file system, full before the run's first tensor file is written; the line names that file and says the run resumes."
    full = tmp_path / "full"; full.mkdir()
    p = _in_a_mount_namespace('mount -t tmpfs -o size=100k tmpfs "$0"', full, ["imp", *TINY, "--rounds", 1, "--epochs", 3, "--out", full / "run"])
    if p is None: pytest.skip("no user namespace here to mount a small file system in")
    line = _one_line(p)
    assert line.startswith(f"dlth: error: {full / 'run'}/") and "no space left" in line.lower() and "resumes where it stopped" in line, line
