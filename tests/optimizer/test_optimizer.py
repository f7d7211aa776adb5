"""mx.optimizer: the registry, the base class's bookkeeping, each update rule, lazy rows, states."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import paramlab as mx
from paramlab.base import LRSchedulerConflictError

ALL = ["sgd", "nag", "signum", "adam", "adamw", "lamb", "adagrad", "rmsprop", "adadelta", "ftrl"]


# ----------------------------------------------------------------------------- registry
@pytest.mark.parametrize("name", ALL + ["SGD", "Adam", "AdamW", "Ftrl", "RMSProp"])
def test_create_is_case_insensitive(name):
    opt = mx.optimizer.create(name)
    assert type(opt).__name__.lower() == name.lower()
    assert isinstance(opt, mx.optimizer.Optimizer)


def test_unknown_names_and_bad_arguments():
    with pytest.raises(ValueError, match="Cannot find optimizer nosuch"):
        mx.optimizer.create("nosuch")
    with pytest.raises(TypeError, match="must be a string"):
        mx.optimizer.create(3)
    with pytest.raises(TypeError, match="momentm"):
        mx.optimizer.create("sgd", momentm=0.9)
    with pytest.raises(TypeError, match="learning_rate"):
        mx.optimizer.SGD(learning_rate="fast")
    with pytest.raises(ValueError, match="momentum"):
        mx.optimizer.SGD(momentum=-0.5)
    with pytest.raises(TypeError, match="Optimizer subclass"):
        mx.optimizer.register(object)


def test_register_a_custom_optimizer_and_use_it_in_a_trainer():
    @mx.optimizer.register
    class HalfStep(mx.optimizer.Optimizer):
        def create_state(self, index, weight):
            return mx.nd.zeros(weight.shape, weight.context)

        def update(self, index, weight, grad, state):
            self._update_count(index)
            weight[:] = weight - 0.5 * self._get_lr(index) * grad
            state[:] = state + 1

    assert type(mx.optimizer.create("halfstep")).__name__ == "HalfStep"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mx.optimizer.register(type("HalfStep", (mx.optimizer.Optimizer,), {}))
        mx.optimizer.register(HalfStep)
    assert any("overriding" in str(w.message) for w in caught)

    w = mx.gluon.Parameter("w", shape=(2,), init=mx.init.One())
    w.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    t = mx.gluon.Trainer([w], "halfstep", {"learning_rate": 1.0})
    with mx.autograd.record():
        ls = [w.data(c).sum() for c in w.list_ctx()]
    mx.autograd.backward(ls)
    t.step(1)
    assert [d.asnumpy().tolist() for d in w.list_data()] == [[0.0, 0.0], [0.0, 0.0]]


def test_optimizer_module_surface():
    for name in (
        "Optimizer",
        "Updater",
        "create",
        "register",
        "get_updater",
        "SGD",
        "NAG",
        "Signum",
        "Adam",
        "AdamW",
        "LAMB",
        "AdaGrad",
        "RMSProp",
        "AdaDelta",
        "Ftrl",
        "FTRL",
    ):
        assert name in mx.optimizer.__all__ and hasattr(mx.optimizer, name)
    assert mx.optimizer.FTRL is mx.optimizer.Ftrl


# ----------------------------------------------------------------------------- base bookkeeping
def test_default_learning_rates_follow_mxnet():
    assert mx.optimizer.SGD().learning_rate == 0.01
    assert mx.optimizer.Adam().learning_rate == 0.001
    assert mx.optimizer.Ftrl().learning_rate == 0.1
    assert mx.optimizer.Signum().learning_rate == 0.01


def test_learning_rate_replaces_the_scheduler_base_rate_with_a_warning():
    sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    with pytest.warns(UserWarning, match="overwritten"):
        opt = mx.optimizer.SGD(learning_rate=0.2, lr_scheduler=sched)
    assert sched.base_lr == 0.2
    assert opt.learning_rate == 0.2
    with pytest.raises(LRSchedulerConflictError):
        opt.set_learning_rate(0.1)
    with pytest.raises(UserWarning):  # MXNet code catches a UserWarning
        opt.learning_rate = 0.1
    plain = mx.optimizer.SGD(learning_rate=0.2)
    plain.learning_rate = 0.3
    assert plain.lr == 0.3


def test_num_update_and_scheduler_see_counts_bumped_first():
    sched = mx.lr_scheduler.MultiFactorScheduler(step=[2], factor=0.1, base_lr=1.0)
    opt = mx.optimizer.SGD(lr_scheduler=sched)
    upd = mx.optimizer.get_updater(opt)
    w = mx.nd.zeros((1,))
    seen = []
    for _ in range(4):
        upd(0, mx.nd.ones((1,)), w)
        seen.append(round(float(w.asscalar()), 6))
    assert opt.num_update == 4
    assert seen == [-1.0, -2.0, -2.1, -2.2]


def test_begin_num_update_and_per_context_counts():
    opt = mx.optimizer.Adam(begin_num_update=10)
    opt._set_current_context("a")
    opt._update_count(0)
    opt._set_current_context("b")
    opt._update_count([0, 1])
    opt._update_count(0)
    assert opt._all_index_update_counts["a"] == {0: 11}
    assert opt._all_index_update_counts["b"] == {0: 12, 1: 11}
    assert opt.num_update == 12


def test_multipliers_precedence_param_dict_then_tables_then_names():
    p = mx.gluon.Parameter("w", shape=(1,))
    opt = mx.optimizer.SGD(
        learning_rate=1.0, wd=1.0, param_dict={0: p}, param_idx2name={1: "fc_bias", 2: "fc_weight"}
    )
    opt.set_lr_mult({0: 5.0, 1: 3.0, "fc_weight": 2.0})
    p.lr_mult, p.wd_mult = 0.5, 0.25
    assert opt._get_lrs([0, 1, 2, 3]) == [0.5, 3.0, 2.0, 1.0]
    assert opt._get_wds([0, 1, 2]) == [0.25, 0.0, 1.0]  # Module's rule: biases get no decay
    opt.set_wd_mult({"fc_bias": 2.0})
    assert opt._get_wd(1) == 2.0
    sym = mx.sym.var("x", lr_mult=4, wd_mult=0)
    opt = mx.optimizer.SGD(learning_rate=1.0, wd=1.0, sym=sym, param_idx2name={0: "x"})
    assert (opt._get_lr(0), opt._get_wd(0)) == (4.0, 0.0)


def test_clip_gradient_off_for_none_zero_and_negative():
    for clip in (None, 0, -1.0):
        opt = mx.optimizer.SGD(learning_rate=1.0, clip_gradient=clip)
        w = mx.nd.zeros((1,))
        opt.update(0, w, mx.nd.array([10.0]), None)
        assert float(w.asscalar()) == -10.0
    opt = mx.optimizer.SGD(learning_rate=1.0, clip_gradient=2.0, rescale_grad=0.5)
    w = mx.nd.zeros((2,))
    opt.update(0, w, mx.nd.array([10.0, 2.0]), None)  # rescale first, then clip
    assert w.asnumpy().tolist() == [-2.0, -1.0]


def test_update_writes_in_place_and_bumps_versions():
    opt = mx.optimizer.create("adam")
    w = mx.nd.ones((3,))
    state = opt.create_state(0, w)
    ids, versions = id(w._data), (w.version, state[0].version)
    opt.update(0, w, mx.nd.ones((3,)), state)
    assert id(w._data) == ids
    assert w.version > versions[0] and state[0].version > versions[1]


@pytest.mark.parametrize("name", ALL)
def test_the_gradient_is_never_modified(name):
    opt = mx.optimizer.create(name, clip_gradient=0.5, rescale_grad=2.0, wd=0.1)
    w = mx.nd.array([1.0, -2.0, 3.0])
    g = mx.nd.array([0.5, 1.5, -2.5])
    state = opt.create_state(0, w)
    opt.update(0, w, g, state)
    assert g.asnumpy().tolist() == [0.5, 1.5, -2.5]


def test_states_follow_mxnet_shapes():
    w = mx.nd.ones((2, 3))
    assert mx.optimizer.SGD().create_state(0, w) is None
    assert mx.optimizer.SGD(momentum=0.9).create_state(0, w).shape == (2, 3)
    assert len(mx.optimizer.Adam().create_state(0, w)) == 2
    assert len(mx.optimizer.RMSProp().create_state(0, w)) == 1
    assert len(mx.optimizer.RMSProp(centered=True).create_state(0, w)) == 3
    assert mx.optimizer.NAG().create_state(0, w) is None
    state = mx.optimizer.Adam().create_state(0, mx.nd.ones((2,), ctx=mx.cpu(1)))
    assert state[1].context == mx.cpu(1)


# ----------------------------------------------------------------------------- formulas
def _np_adamw(w, grads, lr, b1, b2, eps, wd, rescale, clip, correct_bias=True):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        g = np.clip(g * rescale, -clip, clip) if clip else g * rescale
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        eta = lr * math.sqrt(1 - b2**t) / (1 - b1**t) if correct_bias else lr
        w = w - eta * (m / (np.sqrt(v) + eps) + wd * w)
    return w


@pytest.mark.parametrize("correct_bias", [True, False])
def test_adamw_decouples_weight_decay_as_mxnet_2(correct_bias):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((4, 3))
    grads = [rng.standard_normal((4, 3)) for _ in range(3)]
    opt = mx.optimizer.AdamW(
        learning_rate=0.01, wd=0.1, clip_gradient=0.8, rescale_grad=0.5, correct_bias=correct_bias
    )
    upd = mx.optimizer.get_updater(opt)
    w = mx.nd.array(w0, dtype="float64")
    for g in grads:
        upd(0, mx.nd.array(g, dtype="float64"), w)
    expected = _np_adamw(w0, grads, 0.01, 0.9, 0.999, 1e-6, 0.1, 0.5, 0.8, correct_bias)
    np.testing.assert_allclose(w.asnumpy(), expected, rtol=1e-12)
    assert opt.epsilon == 1e-6


def test_adam_bias_correction_scales_the_rate():
    opt = mx.optimizer.Adam(learning_rate=0.1)
    w = mx.nd.zeros((1,), dtype="float64")
    state = opt.create_state(0, w)
    opt.update(0, w, mx.nd.array([2.0], dtype="float64"), state)
    # t=1: m=0.2, v=0.004, lr_t = 0.1*sqrt(0.001)/0.1
    expected = -0.1 * math.sqrt(1 - 0.999) / (1 - 0.9) * 0.2 / (math.sqrt(0.004) + 1e-8)
    assert abs(float(w.asscalar()) - expected) < 1e-12


def test_adadelta_ignores_the_learning_rate_and_lamb_uses_the_trust_ratio():
    g = mx.nd.array([0.3, -0.2])
    outs = []
    for lr in (0.1, 10.0):
        opt = mx.optimizer.AdaDelta(learning_rate=lr)
        w = mx.nd.array([1.0, 2.0])
        opt.update(0, w, g, opt.create_state(0, w))
        outs.append(w.asnumpy())
    np.testing.assert_array_equal(outs[0], outs[1])
    opt = mx.optimizer.LAMB(learning_rate=0.1, bias_correction=False, epsilon=1e-30)
    w = mx.nd.array([3.0, 4.0], dtype="float64")
    opt.update(0, w, mx.nd.array([1.0, 0.0], dtype="float64"), opt.create_state(0, w))
    # m=0.1, v=0.001 on the first coordinate: u = [0.1/sqrt(0.001), 0], ratio = 5/|u|
    np.testing.assert_allclose(w.asnumpy(), [3.0 - 0.1 * 5.0, 4.0], rtol=1e-12)


# ----------------------------------------------------------------------------- lazy rows
def _rsp(rows, values, shape):
    return mx.nd.sparse.row_sparse_array((np.asarray(values, np.float32), rows), shape=shape)


@pytest.mark.parametrize(
    "name, kw", [("sgd", {"momentum": 0.9}), ("sgd", {}), ("adam", {}), ("adagrad", {})]
)
def test_lazy_updates_touch_only_the_rows_of_the_gradient(name, kw):
    opt = mx.optimizer.create(name, learning_rate=0.1, wd=0.0 if name == "adagrad" else 0.5, **kw)
    w = mx.nd.ones((5, 2))
    state = opt.create_state(0, w)
    opt.update(0, w, _rsp([1, 3], [[1, 1], [2, 2]], (5, 2)), state)
    out = w.asnumpy()
    assert (out[[0, 2, 4]] == 1).all()  # no decay on absent rows either
    assert (out[[1, 3]] != 1).all()
    if kw.get("momentum"):
        mom = state.asnumpy()
        assert (mom[[0, 2, 4]] == 0).all() and (mom[[1, 3]] != 0).all()


def test_lazy_update_false_updates_every_row_and_equals_the_dense_update():
    g = _rsp([1, 3], [[1, 1], [2, 2]], (5, 2))
    results = []
    for grad in (g, g.tostype("default")):
        opt = mx.optimizer.SGD(learning_rate=0.1, wd=0.5, momentum=0.9, lazy_update=False)
        w = mx.nd.ones((5, 2))
        state = opt.create_state(0, w)
        for _ in range(2):
            opt.update(0, w, grad, state)
        results.append(w.asnumpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
    assert (results[0][0] != 1).all()  # absent rows decayed


def test_lazy_momentum_of_absent_rows_is_kept():
    opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9)
    w = mx.nd.zeros((3, 1))
    state = opt.create_state(0, w)
    opt.update(0, w, _rsp([0, 1], [[1], [1]], (3, 1)), state)
    opt.update(0, w, _rsp([1], [[1]], (3, 1)), state)
    np.testing.assert_allclose(w.asnumpy().ravel(), [-0.1, -0.1 - 0.19, 0.0], rtol=1e-6)
    np.testing.assert_allclose(state.asnumpy().ravel(), [-0.1, -0.19, 0.0], rtol=1e-6)


def test_an_empty_row_sparse_gradient_changes_nothing():
    opt = mx.optimizer.Adam()
    w = mx.nd.ones((3, 2))
    state = opt.create_state(0, w)
    opt.update(0, w, mx.nd.sparse.zeros("row_sparse", (3, 2)), state)
    assert (w.asnumpy() == 1).all()


# ----------------------------------------------------------------------------- precision
def test_float16_without_multi_precision_warns_and_stays_float16():
    opt = mx.optimizer.SGD(learning_rate=0.5, momentum=0.9)
    w = mx.nd.ones((2,), dtype="float16")
    with pytest.warns(UserWarning, match="multi_precision"):
        state = opt.create_state_multi_precision(0, w)
    opt.update_multi_precision(0, w, mx.nd.ones((2,), dtype="float16"), state)
    assert w.dtype == np.float16 and w.asnumpy().tolist() == [0.5, 0.5]


def test_multi_precision_keeps_a_float32_master_copy():
    opt = mx.optimizer.SGD(learning_rate=1e-4, multi_precision=True)
    upd = mx.optimizer.get_updater(opt)
    w = mx.nd.ones((1,), dtype="float16")
    for _ in range(10):  # 1e-4 steps vanish in float16 arithmetic, not in the master copy
        upd(0, mx.nd.ones((1,), dtype="float16"), w)
    master, _ = upd.states[0]
    assert master.dtype == np.float32
    np.testing.assert_allclose(master.asnumpy(), [1 - 10e-4], rtol=1e-6)
    assert w.asnumpy()[0] == np.float16(1 - 10e-4)


# ----------------------------------------------------------------------------- Updater
def test_updater_accepts_lists_and_keeps_one_state_per_index():
    opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.5)
    upd = mx.optimizer.get_updater(opt)
    ws = [mx.nd.ones((2,)), mx.nd.ones((3,))]
    upd([0, 1], [mx.nd.ones((2,)), mx.nd.ones((3,))], ws)
    assert sorted(upd.states) == [0, 1]
    assert upd.states[1].shape == (3,)
    assert opt.num_update == 1
    with pytest.raises(TypeError, match="Optimizer"):
        mx.optimizer.Updater("sgd")


def test_repr_names_the_settings():
    assert repr(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9)) == (
        "SGD(learning_rate=0.1, wd=0.0, momentum=0.9, lazy_update=True)"
    )
