"""mx.lr_scheduler: MXNet 1.9.1's numbers, warm-up modes, stateful schedules, errors."""

from __future__ import annotations

import math

import pytest

import paramlab as mx

S = mx.lr_scheduler

# (class name, kwargs) -- the same list is evaluated by the reference MXNet
CONFIGS = [
    ("FactorScheduler", {"step": 3, "factor": 0.5, "base_lr": 1.0}),
    ("FactorScheduler", {"step": 2, "factor": 0.1, "base_lr": 1.0, "stop_factor_lr": 1e-3}),
    (
        "FactorScheduler",
        {"step": 2, "factor": 0.5, "base_lr": 1.0, "warmup_steps": 4, "warmup_begin_lr": 0.1},
    ),
    ("MultiFactorScheduler", {"step": [2, 5, 9], "factor": 0.5, "base_lr": 0.8}),
    (
        "MultiFactorScheduler",
        {
            "step": [3],
            "factor": 0.1,
            "base_lr": 1.0,
            "warmup_steps": 2,
            "warmup_mode": "constant",
            "warmup_begin_lr": 0.3,
        },
    ),
    ("PolyScheduler", {"max_update": 10, "base_lr": 1.0, "pwr": 2}),
    (
        "PolyScheduler",
        {
            "max_update": 12,
            "base_lr": 0.5,
            "pwr": 1,
            "final_lr": 0.1,
            "warmup_steps": 3,
            "warmup_begin_lr": 0.05,
        },
    ),
    ("CosineScheduler", {"max_update": 10, "base_lr": 1.0}),
    (
        "CosineScheduler",
        {
            "max_update": 12,
            "base_lr": 0.5,
            "final_lr": 0.05,
            "warmup_steps": 4,
            "warmup_mode": "linear",
            "warmup_begin_lr": 0.01,
        },
    ),
]
UPDATES = list(range(0, 16))


def _rates(module, name, kw):
    sched = getattr(module, name)(**kw)
    return [sched(n) for n in UPDATES]


@pytest.mark.mxnet_ref
def test_every_schedule_matches_mxnet(mxnet_ref):
    ref = mxnet_ref(f"""
        import json
        import mxnet.lr_scheduler as S
        out = []
        for name, kw in {CONFIGS!r}:
            sched = getattr(S, name)(**kw)
            out.append([sched(n) for n in {UPDATES!r}])
        print(json.dumps(out))
    """)
    for (name, kw), expected in zip(CONFIGS, ref):
        assert _rates(S, name, kw) == expected, (name, kw)


def test_factor_scheduler_numbers():
    s = S.FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    assert [s(n) for n in range(1, 8)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125]
    floor = S.FactorScheduler(step=1, factor=0.1, base_lr=1.0, stop_factor_lr=0.05)
    assert [floor(n) for n in (1, 2, 3, 4)][-1] == 0.05


def test_multifactor_scheduler_numbers():
    s = S.MultiFactorScheduler(step=[2, 4], factor=0.1, base_lr=1.0)
    got = [s(n) for n in range(1, 7)]
    assert got[:2] == [1.0, 1.0] and math.isclose(got[2], 0.1) and math.isclose(got[5], 0.01)


def test_poly_and_cosine_reach_the_final_rate():
    poly = S.PolyScheduler(max_update=4, base_lr=1.0, pwr=2, final_lr=0.2)
    assert [round(poly(n), 6) for n in (0, 2, 4, 9)] == [1.0, 0.4, 0.2, 0.2]
    cos = S.CosineScheduler(max_update=4, base_lr=1.0, final_lr=0.0)
    assert [round(cos(n), 6) for n in (0, 2, 4, 9)] == [1.0, 0.5, 0.0, 0.0]


@pytest.mark.parametrize(
    "mode, expected", [("linear", [0.0, 0.25, 0.5, 0.75]), ("constant", [0.0, 0.0, 0.0, 0.0])]
)
def test_warmup_modes(mode, expected):
    s = S.CosineScheduler(max_update=8, base_lr=1.0, warmup_steps=4, warmup_mode=mode)
    assert [s(n) for n in range(4)] == expected
    assert s(4) == 1.0


def test_warmup_begins_at_warmup_begin_lr():
    s = S.PolyScheduler(max_update=10, base_lr=1.0, warmup_steps=2, warmup_begin_lr=0.5)
    assert [s(0), s(1)] == [0.5, 0.75]


@pytest.mark.parametrize(
    "make, exc, words",
    [
        (lambda: S.FactorScheduler(step=0), ValueError, "step"),
        (lambda: S.FactorScheduler(step=2, factor=1.5), ValueError, "factor"),
        (lambda: S.MultiFactorScheduler(step=[3, 2]), ValueError, "increasing"),
        (lambda: S.MultiFactorScheduler(step=[0, 2]), ValueError, ">= 1"),
        (lambda: S.MultiFactorScheduler(step=4), TypeError, "list"),
        (lambda: S.PolyScheduler(max_update=0), ValueError, "max_update"),
        (lambda: S.CosineScheduler(max_update=2.5), TypeError, "max_update"),
        (
            lambda: S.CosineScheduler(max_update=5, base_lr=0.1, warmup_begin_lr=0.2),
            ValueError,
            "warmup_begin_lr",
        ),
        (lambda: S.CosineScheduler(max_update=5, warmup_steps=-1), ValueError, "warmup_steps"),
        (lambda: S.CosineScheduler(max_update=5, warmup_steps=1.5), TypeError, "warmup_steps"),
        (lambda: S.CosineScheduler(max_update=5, warmup_mode="cubic"), ValueError, "warmup_mode"),
    ],
)
def test_bad_settings_are_clear_errors(make, exc, words):
    with pytest.raises(exc, match=words):
        make()


def test_base_class_must_be_subclassed():
    with pytest.raises(NotImplementedError):
        S.LRScheduler()(1)
    assert repr(S.FactorScheduler(step=1, base_lr=0.5)) == "FactorScheduler(base_lr=0.5)"


def test_scheduler_state_round_trips_through_trainer_states(tmp_path):
    def trainer():
        w = mx.gluon.Parameter("w", shape=(2,), init=mx.init.One())
        w.initialize()
        sched = S.FactorScheduler(step=1, factor=0.5, base_lr=1.0)
        return w, mx.gluon.Trainer([w], "sgd", {"lr_scheduler": sched})

    w, t = trainer()
    for _ in range(3):
        with mx.autograd.record():
            loss = w.data().sum()
        loss.backward()
        t.step(1)
    t.save_states(str(tmp_path / "s"))
    _, t2 = trainer()
    t2.load_states(str(tmp_path / "s"))
    assert t2.learning_rate == t.learning_rate == 0.25
    assert t2.optimizer.lr_scheduler.count == t.optimizer.lr_scheduler.count
