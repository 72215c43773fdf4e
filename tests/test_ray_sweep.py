"""`dlth sweep --executor ray` on a local Ray cluster (127.0.0.1, two worker CPUs): the sweep completes, one task per run; and with
the two seeds of each cell in one task (--batch-runs 2) it still completes, every run present exactly once, when a worker process
is killed mid-sweep."""
import csv, json, os, signal, socket, subprocess, tempfile, time
from pathlib import Path

import pytest

from conftest import BIN

SMALL = ["--dataset", "synthetic", "--dataset-kwargs", '{"shape": [1, 8, 8], "num_classes": 3, "train_per_class": 20, "test_size": 60}',
         "--width", "0.125", "--epochs", "8", "--rewind-epoch", "1", "--batch-size", "10", "--rounds", "1", "--quiet"]
ENV = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}   # a throwaway local test cluster


@pytest.fixture(scope="module")
def cluster():
    import ray  # noqa: F401  (a dev requirement: the test fails, not skips, without it)
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    tmp = tempfile.mkdtemp(prefix="rt", dir="/tmp")            # Ray's socket paths must stay short
    head = subprocess.Popen([str(BIN / "ray"), "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
                             "--include-dashboard=false", "--disable-usage-stats", "--object-store-memory=200000000", f"--temp-dir={tmp}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0: break
            time.sleep(0.5)
        else: raise RuntimeError("the Ray head did not start")
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(head.pid, signal.SIGKILL); head.wait()      # the head, its raylet and its workers share one session


def _sweep(address, out, *extra):
    return [str(BIN / "dlth"), "sweep", "--executor", "ray", "--address", address, "--grid", "per_class=4,8,12", "--seeds", "0,1",
            *SMALL, *extra, "--out", str(out)]


def _check(out: Path, log: str, together: int = 1):
    runs = sorted(p.parent.relative_to(out).as_posix() for p in out.glob("*/seed*/config.json"))
    assert runs == [f"per_class-{k}/seed{s}" for k in (12, 4, 8) for s in (0, 1)]          # six runs, no others
    for r in runs:
        assert (out / r / "round_00" / "metrics.json").exists() and (out / r / "round_01" / "metrics.json").exists()
        assert json.loads((out / r / "round_01" / "metrics.json").read_text()).get("batched_runs", 1) == together
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert sorted((r["per_class"], r["seeds"]) for r in rows) == [("12", "2"), ("4", "2"), ("8", "2")]
    reported = sorted(l.split(":")[0] for l in log.splitlines() if "on Ray" in l)
    assert reported == sorted(f"per_class-{k} seed {s}" for k in (4, 8, 12) for s in (0, 1))   # each run reported once


def test_sweep_on_ray(cluster, tmp_path):
    p = subprocess.run(_sweep(cluster, tmp_path / "sw"), capture_output=True, text=True, env=ENV, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    _check(tmp_path / "sw", p.stdout)


def test_sweep_on_ray_survives_a_killed_worker(cluster, tmp_path):
    out = tmp_path / "sw"
    proc = subprocess.Popen(_sweep(cluster, out, "--batch-runs", "2"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    killed, deadline = None, time.time() + 300
    while killed is None and time.time() < deadline and proc.poll() is None:
        pids = subprocess.run(["pgrep", "-f", "ray::run_group"], capture_output=True, text=True).stdout.split()
        if pids and any(out.glob("*/seed*/round_00")):      # a worker is inside a run that has begun writing
            os.kill(int(pids[0]), signal.SIGKILL); killed = pids[0]
        time.sleep(0.2)
    stdout, stderr = proc.communicate(timeout=600)
    assert killed is not None, "no Ray worker was seen running a task: the kill was not tested"
    assert proc.returncode == 0, stderr[-2000:]
    _check(out, stdout, together=2)
