"""The GPU code path, run on the CPU: the same train() with the settings CUDA gets by default (torch.compile).

Compiled kernels fuse operations and round differently from eager ones, and training amplifies that by an amount
that depends on the CPU (in float32 the two runs' second-epoch losses were 9e-4 apart here). The comparisons are
therefore made in float64 (models and images; the fp32 engine computes in the model's own dtype), where rounding
is about a billion times smaller, so a tight tolerance holds on every machine while a wrong compiled step (a
skipped update, a lost mask) still fails by far."""
import warnings

import torch

from data_efficient_lth.data import Batches, to_float
from data_efficient_lth.datasets import load_dataset
from data_efficient_lth.models import resnet18
from data_efficient_lth.prune import Mask, magnitude_prune
from data_efficient_lth.train import Engine, TrainConfig, train

F64 = torch.float64


def _data():
    return load_dataset("synthetic", shape=(3, 8, 8), num_classes=3, train_per_class=20, test_size=30, seed=0)


def _batches(ds, seed):
    return Batches(to_float(ds.x_train).to(F64), ds.y_train, ds.mean, ds.std, 20, crop_pad=1, seed=seed)


def _run(engine):
    ds = _data()
    torch.manual_seed(0)
    m = resnet18(num_classes=3, width=0.125).to(F64)
    start = {k: v.detach().clone() for k, v in m.named_parameters()}
    mask = magnitude_prune(m.state_dict(), Mask.ones(m), 0.5)
    hist = train(m, _batches(ds, 0), TrainConfig(epochs=2), test=(to_float(ds.x_test).to(F64), ds.y_test), mask=mask, progress=False,
                 engine=engine)
    return m, mask, hist, start


def _close_runs(a, b, mask, start):
    "Pruned weights of `b` are zero, and `b` ends where `a` does: a millionth of how far training moved the weights."
    pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
    for k, v in mask.items():
        assert pb[k][~v].eq(0).all()
        moved, apart = (pa[k] - start[k]).norm(), (pa[k] - pb[k]).norm()
        assert moved > 0 and apart < 1e-6 * moved, (k, apart.item(), moved.item())


def test_compiled_training_matches_eager_and_keeps_pruned_weights_zero():
    eager, mask, h_eager, start = _run(Engine(device="cpu", precision="fp32", compile=False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        comp, _, h_comp, _ = _run(Engine(device="cpu", precision="fp32", compile=True))
    assert not [w for w in caught if "training runs eagerly" in str(w.message)], "compilation fell back to eager: the compiled path was not tested"
    for a, b in zip(h_eager, h_comp):
        assert abs(a["loss"] - b["loss"]) <= 1e-6 * max(1.0, abs(a["loss"])) and a["train_acc"] == b["train_acc"]
    assert h_eager[-1]["test_acc"] == h_comp[-1]["test_acc"]
    _close_runs(eager, comp, mask, start)


def test_compiled_batched_training_matches_compiled_training_one_at_a_time():
    "Several runs in one loop through torch.compile (the sweep's default on a GPU) give what each compiled run gives alone."
    from data_efficient_lth.batched import train_batched
    ds = _data()
    engine = Engine(device="cpu", precision="fp32", compile=True)

    def setup():
        models, batches, masks = [], [], []
        for s in range(2):
            torch.manual_seed(s)
            m = resnet18(num_classes=3, width=0.125).to(F64)
            masks.append(magnitude_prune(m.state_dict(), Mask.ones(m), 0.5)); models.append(m)
            batches.append(_batches(ds, s))
        return models, batches, masks

    alone, batches, masks = setup()
    start = [{k: v.detach().clone() for k, v in m.named_parameters()} for m in alone]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h_alone = [train(m, b, TrainConfig(epochs=2), mask=mk, progress=False, engine=engine) for m, b, mk in zip(alone, batches, masks)]
        together, batches, masks = setup()
        h_together = train_batched(together, batches, TrainConfig(epochs=2), masks=masks, progress=False, engine=engine)
    assert not [w for w in caught if "training runs eagerly" in str(w.message)], "compilation fell back to eager: the compiled path was not tested"
    for ha, ht, a, t, mask, st in zip(h_alone, h_together, alone, together, masks, start):
        for x, y in zip(ha, ht): assert abs(x["loss"] - y["loss"]) <= 1e-6 * max(1.0, abs(x["loss"]))
        _close_runs(a, t, mask, st)
