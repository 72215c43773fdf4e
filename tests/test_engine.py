"The GPU code path, run on the CPU: the same train() with the settings CUDA gets by default (torch.compile)."
import warnings

import torch

from data_efficient_lth.data import load_dataset, Batches
from data_efficient_lth.models import resnet18
from data_efficient_lth.prune import Mask, magnitude_prune
from data_efficient_lth.train import Engine, TrainConfig, train


def _run(engine):
    ds = load_dataset("synthetic", shape=(3, 8, 8), num_classes=3, train_per_class=20, test_size=30, seed=0)
    torch.manual_seed(0)
    m = resnet18(num_classes=3, width=0.125)
    start = {k: v.detach().clone() for k, v in m.named_parameters()}
    mask = magnitude_prune(m.state_dict(), Mask.ones(m), 0.5)
    hist = train(m, Batches(ds.x_train, ds.y_train, ds.mean, ds.std, 20, crop_pad=1, seed=0), TrainConfig(epochs=2),
                 test=(ds.x_test, ds.y_test), mask=mask, progress=False, engine=engine)
    return m, mask, hist, start


def test_compiled_training_matches_eager_and_keeps_pruned_weights_zero():
    eager, mask, h_eager, start = _run(Engine(device="cpu", precision="fp32", compile=False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        comp, _, h_comp, _ = _run(Engine(device="cpu", precision="fp32", compile=True))
    assert not [w for w in caught if "training runs eagerly" in str(w.message)], "compilation fell back to eager: the compiled path was not tested"
    for a, b in zip(h_eager, h_comp):
        assert abs(a["loss"] - b["loss"]) < 1e-3 * max(1.0, abs(a["loss"]))
    pe, pc = dict(eager.named_parameters()), dict(comp.named_parameters())
    for k, v in mask.items():
        assert pc[k][~v].eq(0).all()
        # kernels differ in rounding, and six SGD steps at lr 0.1 amplify it: the two runs must end far closer to each
        # other than to where they started (a broken compiled step, e.g. a skipped update, fails this by far)
        moved, apart = (pe[k] - start[k]).norm(), (pe[k] - pc[k]).norm()
        assert apart < 0.05 * moved, (k, apart.item(), moved.item())


def test_compiled_batched_training_matches_compiled_training_one_at_a_time():
    "Several runs in one loop through torch.compile (the sweep's default on a GPU) give what each compiled run gives alone."
    from data_efficient_lth.batched import train_batched
    ds = load_dataset("synthetic", shape=(3, 8, 8), num_classes=3, train_per_class=20, test_size=30, seed=0)
    engine = Engine(device="cpu", precision="fp32", compile=True)

    def setup():
        models, batches, masks = [], [], []
        for s in range(2):
            torch.manual_seed(s)
            m = resnet18(num_classes=3, width=0.125)
            masks.append(magnitude_prune(m.state_dict(), Mask.ones(m), 0.5)); models.append(m)
            batches.append(Batches(ds.x_train, ds.y_train, ds.mean, ds.std, 20, crop_pad=1, seed=s))
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
        for x, y in zip(ha, ht): assert abs(x["loss"] - y["loss"]) < 1e-3 * max(1.0, abs(x["loss"]))
        pa, pt = dict(a.named_parameters()), dict(t.named_parameters())
        for k, v in mask.items():
            assert pt[k][~v].eq(0).all()
            moved, apart = (pa[k] - st[k]).norm(), (pa[k] - pt[k]).norm()
            assert apart < 0.05 * moved, (k, apart.item(), moved.item())
