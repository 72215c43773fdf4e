"A run directory written before the house was rebuilt (issue 14) still opens, reads and resumes."
import json, shutil
from pathlib import Path
import torch
from data_efficient_lth import imp
from data_efficient_lth.prune import Mask

# Made at commit fad5a3b (before issue 14) by:
#   imp.run(dataset="digits", per_class=10, rounds=2, width=0.0625, epochs=2, rewind_epoch=1, batch_size=20, seed=3,
#           progress=False, log=None, out=...);  imp.finetune(run, round=1, epochs=1, progress=False)
OLD = Path(__file__).parent / "fixtures" / "run-made-by-fad5a3b"
SETTINGS = dict(dataset="digits", per_class=10, width=0.0625, epochs=2, rewind_epoch=1, batch_size=20, seed=3)


def test_old_run_opens_and_reads():
    run = imp.Run(OLD)
    assert run.rounds_done == [0, 1, 2]
    assert list(run.results["remaining"].round(1)) == [100.0, 80.0, 64.0]
    assert run.config.width == 0.0625 and run.config.seed == 3
    assert len(run.subset) == 100                              # 10 per class, 10 classes
    mask = run.mask(2)
    assert abs(mask.density - 0.64) < 0.01
    ticket, rewind = run.ticket(2).state_dict(), run.rewind_state()
    for name, keep in mask.items():                            # the ticket is the rewind weights times the mask
        assert torch.equal(ticket[name], rewind[name] * keep)
    assert "test acc %" in run.table.columns


def test_old_run_branches_are_read_not_retrained():
    saved = json.loads((OLD / "finetune" / "round_01-lr0.001-e1" / "metrics.json").read_text())
    assert imp.finetune(imp.Run(OLD), round=1, epochs=1, progress=False) == saved


def test_old_run_resumes_with_the_old_codes_mask(tmp_path):
    out = tmp_path / "old"
    shutil.copytree(OLD, out)
    shutil.rmtree(out / "round_02")                            # as if the old run had stopped after round 1
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != "config.json"}
    run = imp.run(rounds=2, out=out, progress=False, log=None, **SETTINGS)
    assert run.rounds_done == [0, 1, 2]
    # round 2's mask comes from round 1's saved weights alone: the new code must prune them as the old code did
    resumed, old = Mask.load(out / "round_02" / "mask.pt"), Mask.load(OLD / "round_02" / "mask.pt")
    assert resumed.keys() == old.keys() and all(torch.equal(resumed[k], old[k]) for k in old)
    kept = {k: v for k, v in before.items() if k.name != "results.csv"}
    assert all((out / k).read_bytes() == v for k, v in kept.items()), "resuming rewrote a file the old run had finished"
    record = json.loads((out / "config.json").read_text())
    assert record["config"] == json.loads((OLD / "config.json").read_text())["config"]   # kept in the form it was written in
