"""gluon.Trainer: construction rules, MXNet's modes, stale gradients, states, d2l items.

Gradients are made controllable with ``loss_k = sum(w_k * c_k)``, whose gradient
on replica k is exactly ``c_k``.
"""

from __future__ import annotations

import os
import tracemalloc
import warnings

import numpy as np
import pytest

import paramlab as mx
from paramlab import _backend
from paramlab.base import CheckpointFormatError, LRSchedulerConflictError, StaleGradientError
from paramlab.gluon import Parameter, nn

CPU2 = [mx.cpu(0), mx.cpu(1)]
CPU3 = [mx.cpu(0), mx.cpu(1), mx.cpu(2)]
RNG = np.random.default_rng(7)


def make(name="w", shape=(3, 4), ctx=CPU3, value=None, **kw):
    p = Parameter(name, shape=shape, init=mx.init.Uniform(1.0), **kw)
    p.initialize(ctx=ctx)
    if value is not None:
        p.set_data(mx.nd.array(value))
    return p


def backward(params, coefs=None, ctxs=None):
    """Write gradient coefs[i][k] into replica k of params[i] (through autograd)."""
    ctxs = ctxs or params[0].list_ctx()
    coefs = coefs or [
        [RNG.standard_normal(p.shape).astype(np.float32) for _ in ctxs] for p in params
    ]
    with mx.autograd.record():
        losses = []
        for p, cs in zip(params, coefs):
            for c, ctx in zip(cs, ctxs):
                losses.append((p.data(ctx) * mx.nd.array(c, ctx=ctx)).sum())
    mx.autograd.backward(losses)
    return coefs


def host(arrays):
    return [a.asnumpy() for a in arrays]


def replicas_equal(p):
    first = p.list_data()[0].asnumpy()
    return all(np.array_equal(first, d.asnumpy()) for d in p.list_data()[1:])


# ----------------------------------------------------------------------------- construction
def test_dict_is_sorted_by_key_and_list_keeps_order():
    a, b, c = make("a", ctx=[mx.cpu(0)]), make("b", ctx=[mx.cpu(0)]), make("c", ctx=[mx.cpu(0)])
    t = mx.gluon.Trainer({"z": a, "m": b, "b": c}, "sgd")
    assert [t.optimizer.param_dict[i] for i in range(3)] == [c, b, a]
    t = mx.gluon.Trainer([b, a, c], "sgd")
    assert [t.optimizer.param_dict[i] for i in range(3)] == [b, a, c]


def test_parameter_dict_from_collect_params_is_sorted():
    net = nn.Sequential()
    net.add(nn.Dense(3, in_units=2), nn.Dense(2, in_units=3))
    net.initialize()
    params = net.collect_params()
    t = mx.gluon.Trainer(params, "sgd")
    names = [t.optimizer.param_dict[i].name for i in range(4)]
    assert names == sorted(params.keys())


@pytest.mark.parametrize(
    "bad, words",
    [
        (3, "First argument must be a list or dict of Parameters, got <class 'int'>"),
        ("w", "First argument must be a list or dict of Parameters, got <class 'str'>"),
        (["w"], "First argument must be a list or dict of Parameters, got list of <class 'str'>"),
    ],
)
def test_bad_params_use_mxnet_words(bad, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        mx.gluon.Trainer(bad, "sgd")


def test_empty_and_duplicate_params_are_refused():
    w = make(ctx=[mx.cpu(0)])
    with pytest.raises(ValueError, match="no Parameters"):
        mx.gluon.Trainer([], "sgd")
    with pytest.raises(ValueError, match="more than once"):
        mx.gluon.Trainer([w, w], "sgd")


def test_parameters_on_different_contexts_are_refused():
    a, b = make("a", ctx=CPU2), make("b", ctx=[mx.cpu(1), mx.cpu(0)])
    with pytest.raises(ValueError, match="same set of contexts") as info:
        mx.gluon.Trainer([a, b], "sgd")
    assert "[cpu(1), cpu(0)]" in str(info.value) and "[cpu(0), cpu(1)]" in str(info.value)


def test_uninitialized_parameter_raises_its_own_error():
    with pytest.raises(RuntimeError, match="has not been initialized"):
        mx.gluon.Trainer([Parameter("u", shape=(2,))], "sgd")


def test_deferred_parameters_are_accepted():
    net = nn.Dense(3)
    net.initialize(ctx=CPU2)
    t = mx.gluon.Trainer(net.collect_params(), "sgd")
    x = mx.gluon.utils.split_and_load(mx.nd.ones((4, 5)), CPU2)
    with mx.autograd.record():
        ls = [net(xi).sum() for xi in x]
    mx.autograd.backward(ls)
    t.step(4)
    assert replicas_equal(net.weight)


def test_optimizer_instance_with_params_and_unknown_names():
    w = make(ctx=[mx.cpu(0)])
    with pytest.raises(ValueError, match="optimizer_params must be None"):
        mx.gluon.Trainer([w], mx.optimizer.SGD(), {"learning_rate": 0.1})
    with pytest.raises(ValueError, match="Cannot find optimizer"):
        mx.gluon.Trainer([w], "sgdd")
    opt = mx.optimizer.Adam(learning_rate=0.5)
    t = mx.gluon.Trainer([w], opt)
    assert t.optimizer is opt and opt.param_dict == {0: w}
    assert t.learning_rate == 0.5
    assert mx.gluon.Trainer([w], "SGD").learning_rate == 0.01  # MXNet's default rate


@pytest.mark.parametrize(
    "kv", ["dist_sync", "dist_async", "nccl", "horovod", "dist_device_sync", "local_allreduce_cpu"]
)
def test_unsupported_kvstores_list_the_supported_ones(kv):
    with pytest.raises(ValueError, match=r"\['device', 'local'\]"):
        mx.gluon.Trainer([make(ctx=CPU2)], "sgd", kvstore=kv)


def test_compression_and_bad_update_on_kvstore_are_refused():
    w = make(ctx=CPU2)
    with pytest.raises(ValueError, match="compression"):
        mx.gluon.Trainer([w], "sgd", compression_params={"type": "2bit", "threshold": 0.5})
    with pytest.raises(TypeError, match="update_on_kvstore"):
        mx.gluon.Trainer([w], "sgd", update_on_kvstore="yes")


# ----------------------------------------------------------------------------- modes
@pytest.mark.parametrize("update_on_kvstore", [None, False])
@pytest.mark.parametrize(
    "optimizer, params",
    [
        ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01}),
        ("adam", {"learning_rate": 0.01, "wd": 0.01}),
        ("rmsprop", {"learning_rate": 0.01, "centered": True}),
    ],
)
def test_replicas_stay_bitwise_identical_on_three_contexts(update_on_kvstore, optimizer, params):
    ps = [make("w", (5, 4)), make("b", (4,))]
    t = mx.gluon.Trainer(ps, optimizer, params, update_on_kvstore=update_on_kvstore)
    for _ in range(4):
        backward(ps)
        t.step(3)
        for p in ps:
            assert replicas_equal(p), p.name


def test_first_step_copies_replica_zero_into_every_replica():
    w = make(shape=(2, 2), value=np.ones((2, 2)))
    w.data(mx.cpu(1))[:] = 5.0  # diverged before the first step
    t = mx.gluon.Trainer([w], "sgd", {"learning_rate": 0.5})
    coefs = backward([w])
    t.step(1)
    expected = 1.0 - 0.5 * sum(coefs[0])
    for d in w.list_data():
        np.testing.assert_allclose(d.asnumpy(), expected, rtol=1e-6)


def test_gradients_are_summed_not_averaged_and_rescaled_by_batch_size():
    w = make(shape=(3,), value=np.zeros(3))
    t = mx.gluon.Trainer([w], "sgd", {"learning_rate": 1.0})
    coefs = backward([w], [[np.array([1, 2, 3], np.float32)] * 3])
    t.step(batch_size=2)
    np.testing.assert_allclose(w.data(mx.cpu(2)).asnumpy(), -sum(coefs[0]) / 2)


def test_list_grad_keeps_own_gradients_in_default_multi_context_mode():
    w = make()
    t = mx.gluon.Trainer([w], "sgd")
    coefs = backward([w])
    t.step(1)
    for g, c in zip(w.list_grad(), coefs[0]):
        np.testing.assert_array_equal(g.asnumpy(), c)


def test_list_grad_holds_the_sum_everywhere_without_update_on_kvstore():
    w = make()
    t = mx.gluon.Trainer([w], "sgd", update_on_kvstore=False)
    coefs = backward([w])
    t.step(1)
    total = (coefs[0][0] + coefs[0][1]) + coefs[0][2]
    for g in w.list_grad():
        np.testing.assert_array_equal(g.asnumpy(), total)


def test_list_grad_single_context_is_untouched():
    w = make(ctx=[mx.cpu(1)])
    t = mx.gluon.Trainer([w], "sgd")
    coefs = backward([w])
    t.step(4)
    np.testing.assert_array_equal(w.grad().asnumpy(), coefs[0][0])


def test_kvstore_none_updates_each_replica_with_its_own_gradient():
    w = make(shape=(2,), value=np.ones(2), ctx=CPU2)
    t = mx.gluon.Trainer([w], "sgd", {"learning_rate": 0.1}, kvstore=None)
    coefs = backward([w], [[np.array([1, 1], np.float32), np.array([3, 3], np.float32)]])
    t.step(1)
    np.testing.assert_allclose(w.data(mx.cpu(0)).asnumpy(), 1 - 0.1 * coefs[0][0])
    np.testing.assert_allclose(w.data(mx.cpu(1)).asnumpy(), 1 - 0.1 * coefs[0][1])
    assert not replicas_equal(w)  # replicas drift, as in MXNet
    np.testing.assert_array_equal(w.grad(mx.cpu(1)).asnumpy(), coefs[0][1])


def test_kvstore_none_does_not_resync_diverged_replicas():
    w = make(shape=(2,), value=np.ones(2), ctx=CPU2)
    w.data(mx.cpu(1))[:] = 4.0
    t = mx.gluon.Trainer([w], "sgd", {"learning_rate": 0.0}, kvstore=None)
    backward([w])
    t.step(1)
    assert w.data(mx.cpu(1)).asnumpy().tolist() == [4.0, 4.0]


def test_local_kvstore_behaves_like_device():
    a, b = make("a", value=np.ones((3, 4))), make("b", value=np.ones((3, 4)))
    ta = mx.gluon.Trainer([a], "sgd", {"learning_rate": 0.1}, kvstore="local")
    tb = mx.gluon.Trainer([b], "sgd", {"learning_rate": 0.1}, kvstore="device")
    coefs = backward([a])
    backward([b], coefs)
    ta.step(1)
    tb.step(1)
    np.testing.assert_array_equal(a.data(mx.cpu(2)).asnumpy(), b.data(mx.cpu(2)).asnumpy())


def test_allreduce_grads_and_update_split_the_step():
    w, v = make("w", value=np.ones((3, 4))), make("v", value=np.ones((3, 4)))
    tw = mx.gluon.Trainer(
        [w], "sgd", {"learning_rate": 0.1, "momentum": 0.5}, update_on_kvstore=False
    )
    tv = mx.gluon.Trainer(
        [v], "sgd", {"learning_rate": 0.1, "momentum": 0.5}, update_on_kvstore=False
    )
    for _ in range(2):
        coefs = backward([w])
        backward([v], coefs)
        tw.step(2)
        tv.allreduce_grads()
        for g in v.list_grad():  # the sum is visible between the two calls
            np.testing.assert_array_equal(g.asnumpy(), (coefs[0][0] + coefs[0][1]) + coefs[0][2])
        tv.update(2)
    for a, b in zip(host(w.list_data()), host(v.list_data())):
        np.testing.assert_array_equal(a, b)


def test_allreduce_grads_and_update_refused_when_updating_on_the_store():
    w = make()
    t = mx.gluon.Trainer([w], "sgd")
    backward([w])
    before = host(w.list_data())
    with pytest.raises(RuntimeError, match="update_on_kvstore=False"):
        t.allreduce_grads()
    with pytest.raises(RuntimeError, match="update_on_kvstore=False"):
        t.update(1)
    for a, b in zip(before, host(w.list_data())):
        np.testing.assert_array_equal(a, b)
    t.step(1)  # still usable


def test_allreduce_grads_and_update_work_on_one_context():
    w = make(ctx=[mx.cpu(0)], value=np.ones((3, 4)))
    t = mx.gluon.Trainer([w], "sgd", {"learning_rate": 1.0})
    coefs = backward([w])
    t.allreduce_grads()
    t.update(1)
    np.testing.assert_allclose(w.data().asnumpy(), 1 - coefs[0][0], rtol=1e-6)


def test_cross_context_copies_are_counted():
    w = make(shape=(8, 8))
    t = mx.gluon.Trainer([w], "sgd")
    backward([w])
    t.step(1)  # the first step also broadcasts replica 0
    backward([w])
    with _backend.counting() as moved:
        t.step(1)
    nbytes = 8 * 8 * 4
    # two gradients gathered on cpu(0), the updated weight sent to two replicas
    assert moved.cpu_to_cpu == 4 * nbytes
    w1 = make("one", ctx=[mx.cpu(0)])
    t1 = mx.gluon.Trainer([w1], "sgd")
    backward([w1])
    with _backend.counting() as moved:
        t1.step(1)
    assert moved.total == 0


def test_single_context_sgd_step_allocates_no_weight_sized_arrays():
    w = make(shape=(512, 512), ctx=[mx.cpu(0)])
    t = mx.gluon.Trainer([w], "sgd", {"learning_rate": 0.1})
    backward([w])
    t.step(1)  # the first step creates the scratch buffer
    backward([w])
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        t.step(1)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 512 * 512 * 4 // 8


# ----------------------------------------------------------------------------- stale gradients
STALE = (
    "Gradient of Parameter `{}` on context {} has not been updated by backward since last "
    "`step`. This could mean a bug in your model that made it only use a subset of the "
    "Parameters (Blocks) for this iteration. If you are intentionally only using a subset, "
    "call step with ignore_stale_grad=True to suppress this warning and skip updating of "
    "Parameters with stale gradient"
)


def test_stale_gradient_raises_before_any_update():
    a, b = make("a", ctx=[mx.cpu(0)]), make("b", ctx=[mx.cpu(0)])
    t = mx.gluon.Trainer([a, b], "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    backward([a, b])
    t.step(1)
    backward([a])  # b is stale now
    before = [(d.asnumpy(), d.version) for d in (a.data(), b.data())]
    with pytest.raises(StaleGradientError) as info:
        t.step(1)
    assert str(info.value) == STALE.format("b", "cpu(0)")
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, UserWarning)
    for (v, ver), d in zip(before, (a.data(), b.data())):
        np.testing.assert_array_equal(v, d.asnumpy())
        assert d.version == ver
    assert t.optimizer.num_update == 1


@pytest.mark.parametrize("kw", [{}, {"update_on_kvstore": False}, {"kvstore": None}])
def test_stale_replica_is_detected_with_several_contexts(kw):
    w = make(ctx=CPU3)
    t = mx.gluon.Trainer([w], "sgd", **kw)
    backward([w])
    t.step(1)
    with mx.autograd.record():  # only the replica on cpu(0) gets a new gradient
        loss = w.data(mx.cpu(0)).sum()
    loss.backward()
    before = host(w.list_data())
    with pytest.raises(UserWarning, match=r"on context cpu\(1\) has not been updated"):
        t.step(1)
    for a, b in zip(before, host(w.list_data())):
        np.testing.assert_array_equal(a, b)


def test_ignore_stale_grad_skips_stale_parameters_then_flags_are_cleared():
    a = make("a", ctx=CPU2, value=np.ones((3, 4)))
    b = make("b", ctx=CPU2, value=np.ones((3, 4)))
    t = mx.gluon.Trainer([a, b], "sgd", {"learning_rate": 1.0})
    backward([a, b])
    t.step(1)
    b_before = host(b.list_data())
    coefs = backward([a])
    a_before = a.data(mx.cpu(0)).asnumpy()
    t.step(1, ignore_stale_grad=True)
    for x, y in zip(b_before, host(b.list_data())):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_allclose(
        a.data(mx.cpu(1)).asnumpy(), a_before - (coefs[0][0] + coefs[0][1]), rtol=1e-6
    )
    with pytest.raises(StaleGradientError, match="`a`"):
        t.step(1)  # nothing was written since: every gradient is stale again


def test_ignore_stale_grad_with_kvstore_none_updates_fresh_replicas_only():
    w = make(ctx=CPU2, value=np.ones((3, 4)))
    t = mx.gluon.Trainer([w], "sgd", {"learning_rate": 1.0}, kvstore=None)
    with mx.autograd.record():
        loss = w.data(mx.cpu(1)).sum()
    loss.backward()
    t.step(1, ignore_stale_grad=True)
    assert w.data(mx.cpu(0)).asnumpy().tolist() == np.ones((3, 4)).tolist()
    assert w.data(mx.cpu(1)).asnumpy().tolist() == np.zeros((3, 4)).tolist()


def test_partly_stale_parameter_is_skipped_as_a_whole_when_replicas_are_summed():
    w = make(ctx=CPU2, value=np.ones((3, 4)))
    t = mx.gluon.Trainer([w], "sgd", {"learning_rate": 1.0})
    with mx.autograd.record():
        loss = w.data(mx.cpu(1)).sum()
    loss.backward()
    t.step(1, ignore_stale_grad=True)
    assert replicas_equal(w)
    assert w.data(mx.cpu(0)).asnumpy().tolist() == np.ones((3, 4)).tolist()


def test_constants_and_null_parameters_are_skipped_and_never_stale():
    c = mx.gluon.Constant("c", np.ones((2, 2)))
    c.initialize(ctx=CPU2)
    frozen = make("f", shape=(2, 2), ctx=CPU2, grad_req="null")
    w = make("w", shape=(2, 2), ctx=CPU2)
    t = mx.gluon.Trainer([c, frozen, w], "sgd", {"learning_rate": 1.0})
    before = host(frozen.list_data())
    for _ in range(2):
        backward([w])
        t.step(1)
    assert c.data(mx.cpu(1)).asnumpy().tolist() == [[1.0, 1.0], [1.0, 1.0]]
    for x, y in zip(before, host(frozen.list_data())):
        np.testing.assert_array_equal(x, y)


def test_grad_req_add_gradients_are_not_cleared_by_a_step():
    w = make(ctx=[mx.cpu(0)], grad_req="add", value=np.zeros((3, 4)))
    t = mx.gluon.Trainer([w], "sgd", {"learning_rate": 1.0})
    c1 = backward([w])
    t.step(1)
    np.testing.assert_array_equal(w.grad().asnumpy(), c1[0][0])
    c2 = backward([w])
    np.testing.assert_allclose(w.grad().asnumpy(), c1[0][0] + c2[0][0])
    t.step(1)
    np.testing.assert_allclose(w.data().asnumpy(), -(2 * c1[0][0] + c2[0][0]), rtol=1e-5)


def test_batch_size_is_validated_before_anything_changes():
    w = make(ctx=[mx.cpu(0)])
    t = mx.gluon.Trainer([w], "sgd")
    backward([w])
    before = w.data().asnumpy()
    for bad in (0, -1):
        with pytest.raises(ValueError, match="batch_size"):
            t.step(bad)
    with pytest.raises(TypeError, match="batch_size"):
        t.step("8")
    np.testing.assert_array_equal(before, w.data().asnumpy())
    t.step(1)  # the gradient is still fresh


# ----------------------------------------------------------------------------- multipliers
def test_lr_mult_and_wd_mult_are_read_live():
    w = make(ctx=CPU2, value=np.ones((3, 4)))
    t = mx.gluon.Trainer([w], "sgd", {"learning_rate": 0.1, "wd": 0.5})
    w.lr_mult, w.wd_mult = 2.0, 0.0
    coefs = backward([w])
    t.step(1)
    expected = 1.0 - 0.2 * (coefs[0][0] + coefs[0][1])
    np.testing.assert_allclose(w.data(mx.cpu(1)).asnumpy(), expected, rtol=1e-6)
    w.lr_mult, w.wd_mult = 1.0, 2.0
    prev = w.data(mx.cpu(0)).asnumpy()
    coefs = backward([w])
    t.step(1)
    expected = prev - 0.1 * ((coefs[0][0] + coefs[0][1]) + 1.0 * prev)
    np.testing.assert_allclose(w.data(mx.cpu(0)).asnumpy(), expected, rtol=1e-5)


# ----------------------------------------------------------------------------- observers
def test_each_step_is_announced_after_the_update():
    w = make(ctx=CPU2, value=np.ones((3, 4)))
    frozen = make("f", ctx=CPU2, grad_req="null")
    t = mx.gluon.Trainer([w, frozen], "sgd", {"learning_rate": 1.0})
    seen = []

    def watch(param, event, info):
        if event == "step":
            seen.append((param.name, info["trainer"], param.list_data()[1].asnumpy().copy()))

    w.observe(watch)
    frozen.observe(watch)
    coefs = backward([w])
    t.step(1)
    assert [s[0] for s in seen] == ["w", "f"] and all(s[1] is t for s in seen)
    np.testing.assert_allclose(seen[0][2], 1 - (coefs[0][0] + coefs[0][1]), rtol=1e-6)


# ----------------------------------------------------------------------------- learning rate
def test_learning_rate_and_set_learning_rate():
    w = make(ctx=[mx.cpu(0)])
    t = mx.gluon.Trainer([w], "sgd", {"learning_rate": 0.3})
    assert t.learning_rate == 0.3
    t.set_learning_rate(0.05)
    assert t.learning_rate == 0.05 and t.optimizer.lr == 0.05


def test_set_learning_rate_with_a_scheduler_is_refused():
    w = make(ctx=[mx.cpu(0)])
    sched = mx.lr_scheduler.FactorScheduler(step=1, factor=0.5, base_lr=1.0)
    t = mx.gluon.Trainer([w], "sgd", {"lr_scheduler": sched})
    with pytest.raises(LRSchedulerConflictError, match="LRScheduler of the optimizer") as info:
        t.set_learning_rate(0.1)
    assert isinstance(info.value, UserWarning) and isinstance(info.value, RuntimeError)
    rates = []
    for _ in range(3):
        backward([w])
        t.step(1)
        rates.append(t.learning_rate)
    assert rates == [1.0, 0.5, 0.25]


# ----------------------------------------------------------------------------- states
def _train(t, params, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        coefs = [
            [rng.standard_normal(p.shape).astype(np.float32) for _ in p.list_ctx()] for p in params
        ]
        backward(params, coefs)
        t.step(2)


def _pair(ctx, optimizer, params, **kw):
    out = []
    for _ in range(2):
        ps = [
            make("w", (3, 4), ctx=ctx, value=np.full((3, 4), 0.5)),
            make("b", (4,), ctx=ctx, value=np.zeros(4)),
        ]
        out.append((ps, mx.gluon.Trainer(ps, optimizer, dict(params), **kw)))
    return out


@pytest.mark.parametrize(
    "ctx, kw",
    [
        ([mx.cpu(0)], {}),
        (CPU2, {}),
        (CPU2, {"update_on_kvstore": False}),
        (CPU2, {"kvstore": None}),
    ],
)
@pytest.mark.parametrize(
    "optimizer, params",
    [
        ("sgd", {"learning_rate": 0.1, "momentum": 0.9}),
        ("adam", {"learning_rate": 0.01}),
    ],
)
def test_save_and_load_states_round_trip(tmp_path, ctx, kw, optimizer, params):
    (pa, ta), (pb, tb) = _pair(ctx, optimizer, params, **kw)
    _train(ta, pa, 3, seed=1)
    for p, q in zip(pa, pb):
        for c in ctx:  # with kvstore=None the replicas differ
            q.data(c)[:] = p.data(c)
    fname = tmp_path / "trainer.states"
    ta.save_states(str(fname))
    tb.load_states(str(fname))
    assert tb.optimizer.num_update == ta.optimizer.num_update == 3
    _train(ta, pa, 2, seed=2)
    _train(tb, pb, 2, seed=2)
    for p, q in zip(pa, pb):
        for x, y in zip(host(p.list_data()), host(q.list_data())):
            np.testing.assert_array_equal(x, y)


def test_saved_states_file_is_a_plain_npz_with_a_json_header(tmp_path):
    (pa, ta), _ = _pair([mx.cpu(0)], "adam", {"learning_rate": 0.01})
    _train(ta, pa, 1, seed=0)
    fname = tmp_path / "s.states"
    fname.write_bytes(b"old content")
    ta.save_states(str(fname))
    with np.load(str(fname), allow_pickle=False) as npz:
        import json

        header = json.loads(npz["header"].tobytes())
        assert header["optimizer"]["name"] == "adam"
        assert [p["name"] for p in header["params"]] == ["w", "b"]
        assert header["params"][0]["shape"] == [3, 4]
        assert len(npz.files) == 1 + 4  # the header and (mean, var) of two parameters
    assert os.listdir(tmp_path) == ["s.states"]  # no temporary file left behind


def _trainer_snapshot(t):
    opt = t.optimizer
    states = []
    for upd in t._updaters + [t._store_updater]:
        for i, s in sorted(upd.states.items()):
            flat = s if isinstance(s, tuple) else (s,)
            states.append((i, [x.asnumpy().tobytes() for x in flat if x is not None]))
    counts = {k: dict(v) for k, v in opt._all_index_update_counts.items()}
    return (type(opt), opt.lr, opt.wd, opt.momentum, opt.num_update, counts, states)


def test_load_states_refusals_leave_the_trainer_unchanged(tmp_path):
    (pa, ta), _ = _pair([mx.cpu(0)], "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    _train(ta, pa, 2, seed=0)
    before = _trainer_snapshot(ta)

    # another optimizer
    (pc, tc), _ = _pair([mx.cpu(0)], "adam", {"learning_rate": 0.01})
    _train(tc, pc, 1, seed=0)
    tc.save_states(str(tmp_path / "adam.states"))
    with pytest.raises(ValueError, match=r"'Adam'.*'SGD'"):
        ta.load_states(str(tmp_path / "adam.states"))

    # other parameters (names / shapes)
    other = [make("w", (3, 5), ctx=[mx.cpu(0)]), make("b", (5,), ctx=[mx.cpu(0)])]
    to = mx.gluon.Trainer(other, "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    _train(to, other, 1, seed=0)
    to.save_states(str(tmp_path / "other.states"))
    with pytest.raises(ValueError, match="other parameters"):
        ta.load_states(str(tmp_path / "other.states"))

    # MXNet's pickled states
    (tmp_path / "mxnet.states").write_bytes(b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94.")
    with pytest.raises(CheckpointFormatError, match="pickle"):
        ta.load_states(str(tmp_path / "mxnet.states"))

    # a truncated file
    ta.save_states(str(tmp_path / "good.states"))
    data = (tmp_path / "good.states").read_bytes()
    for cut in (10, len(data) // 2, len(data) - 30):
        (tmp_path / "cut.states").write_bytes(data[:cut])
        with pytest.raises(CheckpointFormatError):
            ta.load_states(str(tmp_path / "cut.states"))

    # not a states file at all / missing
    (tmp_path / "junk.states").write_bytes(b"hello world")
    with pytest.raises(CheckpointFormatError, match="not a paramlab"):
        ta.load_states(str(tmp_path / "junk.states"))
    with pytest.raises(OSError):
        ta.load_states(str(tmp_path / "missing.states"))
    assert _trainer_snapshot(ta) == before


@pytest.mark.mxnet_ref
def test_load_states_refuses_a_real_mxnet_states_file(tmp_path, mxnet_ref):
    path = tmp_path / "mx.states"
    mxnet_ref(f"""
        import mxnet as mx, json
        w = mx.gluon.Parameter('w', shape=(3, 4))
        w.initialize()
        t = mx.gluon.Trainer([w], 'sgd', {{'momentum': 0.9}})
        with mx.autograd.record():
            l = w.data().sum()
        l.backward()
        t.step(1)
        t.save_states({str(path)!r})
        print(json.dumps(True))
    """)
    w = make(ctx=[mx.cpu(0)])
    t = mx.gluon.Trainer([w], "sgd", {"momentum": 0.9})
    with pytest.raises(CheckpointFormatError, match="pickle"):
        t.load_states(str(path))


def test_updater_get_and_set_states_round_trip():
    opt = mx.optimizer.create("sgd", momentum=0.9, learning_rate=0.2)
    upd = mx.optimizer.get_updater(opt)
    w = mx.nd.ones((2, 3))
    upd(0, mx.nd.ones((2, 3)), w)
    blob = upd.get_states(dump_optimizer=True)
    assert blob[:2] == b"PK"
    opt2 = mx.optimizer.create("sgd", momentum=0.5)
    upd2 = mx.optimizer.get_updater(opt2)
    upd2.set_states(blob)
    assert opt2.lr == 0.2 and opt2.momentum == 0.9
    np.testing.assert_array_equal(upd2.states[0].asnumpy(), upd.states[0].asnumpy())
    with pytest.raises(CheckpointFormatError, match="pickle"):
        upd2.set_states(b"\x80\x04N.")


# ----------------------------------------------------------------------------- training
def _mlp():
    net = nn.Sequential()
    net.add(nn.Dense(16, activation="relu", in_units=10), nn.Dense(3, in_units=16))
    return net


def _losses(ctxs, steps=5, kvstore="device", update_on_kvstore=None):
    mx.random.seed(42)
    net = _mlp()
    net.initialize(init=mx.init.Xavier(), ctx=ctxs)
    trainer = mx.gluon.Trainer(
        net.collect_params(),
        "sgd",
        {"learning_rate": 0.5, "momentum": 0.9, "wd": 1e-3},
        kvstore=kvstore,
        update_on_kvstore=update_on_kvstore,
    )
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = mx.nd.array(rng.standard_normal((8, 10)).astype(np.float32))
    y = mx.nd.array(rng.integers(0, 3, size=8).astype(np.float32))
    curve = []
    for _ in range(steps):
        xs = mx.gluon.utils.split_and_load(x, ctxs)
        ys = mx.gluon.utils.split_and_load(y, ctxs)
        with mx.autograd.record():
            ls = [loss_fn(net(a), b) for a, b in zip(xs, ys)]
        for loss in ls:
            loss.backward()
        trainer.step(8)
        curve.append(sum(float(loss.sum().asscalar()) for loss in ls) / 8)
    return curve, net


@pytest.mark.parametrize("kw", [{}, {"update_on_kvstore": False}])
def test_mlp_on_two_contexts_follows_the_single_context_loss_curve(kw):
    one, _ = _losses([mx.cpu(0)])
    two, net = _losses(CPU2, **kw)
    np.testing.assert_allclose(two, one, rtol=1e-5)
    assert one[-1] < one[0]
    for p in net.collect_params().values():
        assert replicas_equal(p)


# ----------------------------------------------------------------------------- d2l checklist
def test_d2l_J5_trainer_sums_rescales_and_updates_every_replica():
    net = nn.Sequential()
    net.add(nn.Dense(4, in_units=3))
    net.initialize(init=mx.init.Normal(sigma=0.01), ctx=CPU2)
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.2})
    w0 = net[0].weight.data(mx.cpu(0)).asnumpy()
    x = mx.nd.array(np.arange(12, dtype=np.float32).reshape(4, 3))
    xs = mx.gluon.utils.split_and_load(x, CPU2)
    with mx.autograd.record():
        ls = [net(a).sum() for a in xs]
    for loss in ls:
        loss.backward()
    mx.nd.waitall()
    g = sum(net[0].weight.grad(c).asnumpy() for c in CPU2)
    np.testing.assert_allclose(g, np.ones((4, 1)) * x.asnumpy().sum(0), rtol=1e-6)
    trainer.step(4)
    for c in CPU2:
        np.testing.assert_allclose(net[0].weight.data(c).asnumpy(), w0 - 0.2 * g / 4, rtol=1e-6)


def test_d2l_J5_in_numpy_mode():
    mx.npx.set_np()
    net = nn.Dense(1, in_units=2)
    net.initialize(ctx=CPU2)
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    x = mx.np.ones((4, 2))
    xs = mx.gluon.utils.split_and_load(x, CPU2)
    with mx.autograd.record():
        ls = [net(a).sum() for a in xs]
    for loss in ls:
        loss.backward()
    trainer.step(4)
    mx.npx.waitall()
    assert replicas_equal(net.weight)
    assert isinstance(net.weight.data(mx.cpu(1)), mx.np.ndarray)


def _word2vec_like(optimizer, params, sparse_grad=False):
    mx.random.seed(1)
    embed = nn.Embedding(input_dim=20, output_dim=4, sparse_grad=sparse_grad)
    embed.initialize(ctx=mx.cpu(0))
    trainer = mx.gluon.Trainer(embed.collect_params(), optimizer, params)
    idx = mx.nd.array([[1, 2, 3], [3, 5, 1]])
    return embed, trainer, idx


def test_d2l_J8_adam_through_the_trainer():
    embed, trainer, idx = _word2vec_like("adam", {"learning_rate": 0.05})
    before = embed.weight.data().asnumpy()
    for _ in range(3):
        with mx.autograd.record():
            loss = (embed(idx) ** 2).sum()
        loss.backward()
        trainer.step(2)
    after = embed.weight.data().asnumpy()
    touched = [1, 2, 3, 5]
    untouched = [i for i in range(20) if i not in touched]
    assert not np.allclose(after[touched], before[touched])
    np.testing.assert_array_equal(after[untouched], before[untouched])  # zero gradient: no move


def test_d2l_J9_weight_decay_with_bias_wd_mult_zero():
    net = nn.Sequential()
    net.add(nn.Dense(1, in_units=3))
    net.initialize(init=mx.init.Normal(sigma=1))
    net.collect_params(".*bias").setattr("wd_mult", 0)
    wd, lr = 3.0, 0.1
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr, "wd": wd})
    w0 = net[0].weight.data().asnumpy()
    b0 = net[0].bias.data().asnumpy()
    x = mx.nd.zeros((2, 3))  # zero inputs: the weight gradient is 0, only decay moves it
    with mx.autograd.record():
        loss = net(x).sum()
    loss.backward()
    trainer.step(2)
    np.testing.assert_allclose(net[0].weight.data().asnumpy(), w0 * (1 - lr * wd), rtol=1e-6)
    np.testing.assert_allclose(net[0].bias.data().asnumpy(), b0 - lr * 2 / 2, rtol=1e-6)


def test_d2l_J10_lr_mult_on_the_output_and_frozen_features():
    features = nn.Dense(3, in_units=2)
    output = nn.Dense(1, in_units=3)
    net = nn.Sequential()
    net.add(features, output)
    net.initialize(init=mx.init.One())
    output.collect_params().setattr("lr_mult", 10)
    features.collect_params().setattr("grad_req", "null")
    with pytest.raises(RuntimeError, match="grad_req='null'"):
        features.weight.grad()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01})
    f0 = features.weight.data().asnumpy()
    o0 = output.weight.data().asnumpy()
    x = mx.nd.ones((1, 2))
    with mx.autograd.record():
        loss = net(x).sum()
    loss.backward()
    g = output.weight.grad().asnumpy()
    trainer.step(1)
    np.testing.assert_array_equal(features.weight.data().asnumpy(), f0)
    np.testing.assert_allclose(output.weight.data().asnumpy(), o0 - 0.1 * g, rtol=1e-6)


def test_d2l_J11_learning_rate_property_and_setter():
    net = nn.Dense(1, in_units=2)
    net.initialize()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    assert trainer.learning_rate == 0.1
    trainer.set_learning_rate(trainer.learning_rate * 0.1)
    assert abs(trainer.learning_rate - 0.01) < 1e-12


def test_d2l_J12_stale_gradient_is_raised_as_a_user_warning():
    net = nn.Sequential()
    net.add(nn.Dense(2, in_units=2), nn.Dense(1, in_units=2))
    net.initialize()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd")
    with mx.autograd.record():
        loss = net(mx.nd.ones((1, 2))).sum()
    loss.backward()
    trainer.step(1)
    with pytest.raises(UserWarning, match="has not been updated by backward since last `step`"):
        trainer.step(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer.step(1, ignore_stale_grad=True)  # nothing to update, no warning either


# ----------------------------------------------------------------------------- MXNet's numbers
# One scenario, run unchanged by MXNet 1.9.1 (``import mxnet as mx``) and by paramlab.
SCENARIO = """
import numpy as np


def scenario(mx, optimizer, params, ctx_ids, kw):
    ctxs = [mx.cpu(i) for i in ctx_ids]
    rng = np.random.RandomState(5)
    w = mx.gluon.Parameter('w', shape=(3, 4))
    b = mx.gluon.Parameter('b', shape=(4,))
    for p in (w, b):
        p.initialize(ctx=ctxs)
    w.set_data(mx.nd.array(rng.randn(3, 4)))
    b.set_data(mx.nd.array(rng.randn(4)))
    trainer = mx.gluon.Trainer([w, b], optimizer, dict(params), **kw)
    b.wd_mult = 0.0  # changed after the Trainer was created
    out = []
    for step in range(3):
        if step == 1:
            w.lr_mult, w.wd_mult = 2.0, 3.0
        with mx.autograd.record():
            losses = []
            for c in ctxs:
                x = mx.nd.array(rng.randn(3, 4) * 3, ctx=c)
                losses.append((w.data(c) * x).sum() + (b.data(c) * b.data(c)).sum() * 2.5)
        for loss in losses:
            loss.backward()
        trainer.step(5)
        out.append([d.asnumpy().tolist() for d in w.list_data()]
                   + [d.asnumpy().tolist() for d in b.list_data()])
    return out


def run_all(mx, cases):
    return [scenario(mx, *case) for case in cases]
"""

TRAINER_CASES = [
    ("sgd", {"learning_rate": 0.1}, [0], {}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01, "clip_gradient": 0.5}, [0], {}),
    ("sgd", {"learning_rate": 0.05, "momentum": 0.8, "wd": 0.02, "rescale_grad": 2.0}, [0, 1], {}),
    (
        "sgd",
        {"learning_rate": 0.05, "momentum": 0.8, "wd": 0.02, "clip_gradient": 1.0},
        [0, 1, 2],
        {"update_on_kvstore": False},
    ),
    ("sgd", {"learning_rate": 0.05, "wd": 0.1}, [0, 1], {"kvstore": None}),
    ("adam", {"learning_rate": 0.01, "wd": 0.01, "clip_gradient": 0.7}, [0], {}),
    ("adam", {"learning_rate": 0.01, "wd": 0.01, "beta1": 0.8}, [0, 1], {}),
    ("adam", {"learning_rate": 0.01, "wd": 0.01}, [0, 1], {"update_on_kvstore": False}),
]


@pytest.mark.mxnet_ref
def test_sgd_and_adam_through_the_trainer_match_mxnet(mxnet_ref):
    import json

    ref = mxnet_ref(
        SCENARIO + f"\nimport json, mxnet\nprint(json.dumps(run_all(mxnet, {TRAINER_CASES!r})))"
    )
    ns = {}
    exec(SCENARIO, ns)
    mine = ns["run_all"](mx, json.loads(json.dumps(TRAINER_CASES)))
    for case, r, m in zip(TRAINER_CASES, ref, mine):
        for step, (rs, ms) in enumerate(zip(r, m)):
            for a, b in zip(rs, ms):
                np.testing.assert_allclose(
                    b, a, rtol=2e-6, atol=1e-7, err_msg=f"{case} step {step}"
                )


# ----------------------------------------------------------------------------- row_sparse
SPARSE_SCENARIO = """
import numpy as np

ROWS = [[[0, 2], [2, 5], [1]], [[1], [1, 4], [0, 5]], [[3, 5], [0], [3]]]  # [step][ctx]


def sparse_scenario(mx, optimizer, params, ctx_ids, weight_stype, kw):
    ctxs = [mx.cpu(i) for i in ctx_ids]
    rng = np.random.RandomState(3)
    p = mx.gluon.Parameter('w', shape=(6, 2), stype=weight_stype, grad_stype='row_sparse')
    p.initialize(ctx=ctxs, init=mx.init.Zero())
    p.set_data(mx.nd.array(rng.randn(6, 2)))
    trainer = mx.gluon.Trainer([p], optimizer, dict(params), **kw)
    out = {'pulled': None, 'weights': [], 'grads': []}
    if weight_stype == 'row_sparse':
        r = p.row_sparse_data(mx.nd.array([4, 1, 4], ctx=ctxs[-1]))
        out['pulled'] = [str(r.context), r.indices.asnumpy().tolist(), r.data.asnumpy().tolist(),
                         r.asnumpy().tolist()]
    for step in range(3):
        if weight_stype == 'row_sparse':
            ws = p.list_row_sparse_data(mx.nd.arange(6))
        else:
            ws = p.list_data()
        with mx.autograd.record():
            losses = []
            for k, (w, c) in enumerate(zip(ws, ctxs)):
                coef = np.zeros((6, 2))
                rows = ROWS[step][k]
                coef[rows] = rng.randn(len(rows), 2) * 3
                losses.append((w * mx.nd.array(coef, ctx=c)).sum())
        for loss in losses:
            loss.backward()
        trainer.step(2)
        if weight_stype == 'row_sparse':
            full = [p.row_sparse_data(mx.nd.arange(6, ctx=c)).asnumpy().tolist() for c in ctxs]
        else:
            full = [d.asnumpy().tolist() for d in p.list_data()]
        out['weights'].append(full)
        out['grads'].append([[g.indices.asnumpy().tolist(), g.data.asnumpy().tolist()]
                             for g in p.list_grad()])
    return out


def run_sparse(mx, cases):
    return [sparse_scenario(mx, *case) for case in cases]
"""

SPARSE_CASES = [
    ("sgd", {"learning_rate": 0.5}, [0], "row_sparse", {}),
    ("sgd", {"learning_rate": 0.5, "momentum": 0.9, "wd": 0.1}, [0, 1], "row_sparse", {}),
    (
        "sgd",
        {"learning_rate": 0.5, "momentum": 0.9, "wd": 0.1, "lazy_update": False},
        [0, 1],
        "row_sparse",
        {},
    ),
    ("adam", {"learning_rate": 0.1, "wd": 0.1, "clip_gradient": 2.0}, [0, 1], "row_sparse", {}),
    ("adagrad", {"learning_rate": 0.1}, [0, 1], "row_sparse", {}),
    ("ftrl", {"learning_rate": 0.1, "wd": 0.1}, [0], "row_sparse", {}),
    ("sgd", {"learning_rate": 0.5, "momentum": 0.9, "wd": 0.1}, [0], "default", {}),
    ("sgd", {"learning_rate": 0.5, "wd": 0.1}, [0, 1], "default", {}),
    ("sgd", {"learning_rate": 0.5, "wd": 0.1, "lazy_update": False}, [0, 1], "default", {}),
    (
        "sgd",
        {"learning_rate": 0.5, "momentum": 0.5, "wd": 0.1},
        [0, 1],
        "default",
        {"update_on_kvstore": True},
    ),
    ("adam", {"learning_rate": 0.1, "wd": 0.1}, [0, 1], "default", {}),
    ("adam", {"learning_rate": 0.1, "wd": 0.1, "lazy_update": False}, [0], "default", {}),
]


@pytest.mark.mxnet_ref
def test_row_sparse_paths_match_mxnet(mxnet_ref):
    ref = mxnet_ref(
        "import os\nos.environ['MXNET_STORAGE_FALLBACK_LOG_VERBOSE'] = '0'\n"
        + SPARSE_SCENARIO
        + "\nimport json, mxnet\n"
        f"print(json.dumps(run_sparse(mxnet, {SPARSE_CASES!r})))"
    )
    ns = {}
    exec(SPARSE_SCENARIO, ns)
    mine = ns["run_sparse"](mx, SPARSE_CASES)
    for case, r, m in zip(SPARSE_CASES, ref, mine):
        if r["pulled"] is not None:
            assert m["pulled"][:2] == r["pulled"][:2], case
            np.testing.assert_array_equal(m["pulled"][2], r["pulled"][2])
            np.testing.assert_array_equal(m["pulled"][3], r["pulled"][3])
        for step in range(3):
            for a, b in zip(r["weights"][step], m["weights"][step]):
                np.testing.assert_allclose(
                    b, a, rtol=1e-6, atol=1e-7, err_msg=f"{case} step {step}"
                )
            for (ri, rv), (mi, mv) in zip(r["grads"][step], m["grads"][step]):
                assert mi == ri, (case, step)
                np.testing.assert_allclose(mv, rv, rtol=1e-6, atol=1e-7)


def rsp_param(ctx=CPU2, value=None, **kw):
    p = Parameter(
        "emb", shape=(6, 2), stype="row_sparse", grad_stype="row_sparse", init=mx.init.Zero(), **kw
    )
    p.initialize(ctx=ctx)
    p.set_data(
        mx.nd.array(np.arange(12, dtype=np.float32).reshape(6, 2) if value is None else value)
    )
    return p


def test_row_sparse_data_pulls_sorted_unique_rows_into_the_replica():
    p = rsp_param()
    t = mx.gluon.Trainer([p], "sgd")  # noqa: F841 - the parameter holds it weakly
    r = p.row_sparse_data(mx.nd.array([4, 1, 4], ctx=mx.cpu(1)))
    assert r.stype == "row_sparse" and r.context == mx.cpu(1)
    assert r.indices.asnumpy().tolist() == [1, 4]
    assert r.data.asnumpy().tolist() == [[2.0, 3.0], [8.0, 9.0]]
    dense = r.asnumpy()
    assert dense[[0, 2, 3, 5]].tolist() == [[0.0, 0.0]] * 4
    again = p.row_sparse_data(mx.nd.array([0], ctx=mx.cpu(1), dtype="int64"))
    assert again is r and r.indices.asnumpy().tolist() == [0]  # the replica buffer, refreshed
    rows = p.list_row_sparse_data(mx.nd.array([5, 0]))
    assert [x.context for x in rows] == CPU2
    assert all(x.indices.asnumpy().tolist() == [0, 5] for x in rows)


def test_row_sparse_pull_counts_its_copies():
    p = rsp_param()
    t = mx.gluon.Trainer([p], "sgd")  # noqa: F841
    p.row_sparse_data(mx.nd.array([0]))  # creates the store
    with _backend.counting() as moved:
        p.row_sparse_data(mx.nd.array([1, 2], ctx=mx.cpu(1)))
    # row ids to the store's context, then ids and the two rows to cpu(1)
    assert moved.cpu_to_cpu == 2 * 8 + 2 * 8 + 2 * 2 * 4


def test_row_sparse_pull_errors_change_nothing():
    p = rsp_param()
    t = mx.gluon.Trainer([p], "sgd")  # noqa: F841
    r = p.row_sparse_data(mx.nd.array([1]))
    with pytest.raises(IndexError, match=r"\[0, 6\)"):
        p.row_sparse_data(mx.nd.array([2, 6]))
    with pytest.raises(ValueError, match="whole numbers"):
        p.row_sparse_data(mx.nd.array([1.5]))
    with pytest.raises(TypeError, match="NDArray"):
        p.list_row_sparse_data([1, 2])
    with pytest.raises(RuntimeError, match="not initialized on context cpu\\(2\\)"):
        p.row_sparse_data(mx.nd.array([1], ctx=mx.cpu(2)))
    assert r.indices.asnumpy().tolist() == [1]


def test_row_sparse_needs_a_trainer_and_only_one():
    p = rsp_param()
    with pytest.raises(RuntimeError, match="no Trainer"):
        p.row_sparse_data(mx.nd.array([1]))
    first = mx.gluon.Trainer([p], "sgd")
    dense = make("d", ctx=CPU2)
    with pytest.raises(RuntimeError, match="More than one trainers"):
        mx.gluon.Trainer([dense, p], "sgd")
    assert p.row_sparse_data(mx.nd.array([1])).indices.asnumpy().tolist() == [1]
    assert first.optimizer.param_dict[0] is p
    shared = mx.gluon.Trainer([dense], "sgd")  # dense parameters can be shared silently
    assert shared.optimizer.param_dict[0] is dense


def test_row_sparse_weights_refuse_kvstore_none_and_local_updates():
    p = rsp_param()
    with pytest.raises(ValueError, match="kvstore=None"):
        mx.gluon.Trainer([p], "sgd", kvstore=None)
    with pytest.raises(ValueError, match="update_on_kvstore=False"):
        mx.gluon.Trainer([p], "sgd", update_on_kvstore=False)


def _rsp_backward(p, rows_per_ctx, ctxs=CPU2):
    ws = p.list_row_sparse_data(mx.nd.arange(6)) if p.stype == "row_sparse" else p.list_data()
    coefs = []
    with mx.autograd.record():
        losses = []
        for w, rows, c in zip(ws, rows_per_ctx, ctxs):
            coef = np.zeros((6, 2), np.float32)
            coef[rows] = 1.0
            coefs.append(coef)
            losses.append((w * mx.nd.array(coef, ctx=c)).sum())
    mx.autograd.backward(losses)
    return coefs


def test_row_sparse_weight_is_updated_on_the_store_only_in_gradient_rows():
    p = rsp_param()
    t = mx.gluon.Trainer([p], "sgd", {"learning_rate": 1.0, "wd": 0.5})
    _rsp_backward(p, [[0, 2], [2]])
    t.step(1)
    full = p.row_sparse_data(mx.nd.arange(6)).asnumpy()
    base = np.arange(12, dtype=np.float32).reshape(6, 2)
    np.testing.assert_allclose(full[0], base[0] * 0.5 - 1.0)
    np.testing.assert_allclose(full[2], base[2] * 0.5 - 2.0)
    np.testing.assert_array_equal(full[[1, 3, 4, 5]], base[[1, 3, 4, 5]])  # lazy: no decay
    assert [g.indices.asnumpy().tolist() for g in p.list_grad()] == [[0, 2], [2]]


def test_set_data_on_a_row_sparse_parameter_resets_the_store():
    p = rsp_param()
    t = mx.gluon.Trainer([p], "sgd", {"learning_rate": 1.0})
    _rsp_backward(p, [[0], [0]])
    t.step(1)
    p.row_sparse_data(mx.nd.array([3]))  # replica 0 now holds one row only
    _rsp_backward(p, [[1], [1]])
    t.step(1)  # the store keeps every row although replica 0 holds few
    assert p.row_sparse_data(mx.nd.arange(6)).asnumpy()[5].tolist() == [10.0, 11.0]
    p.set_data(mx.nd.ones((6, 2)))
    assert p.row_sparse_data(mx.nd.arange(6)).asnumpy().tolist() == [[1.0, 1.0]] * 6


def test_dense_weight_with_row_sparse_gradients_on_two_contexts():
    p = make("e", shape=(6, 2), ctx=CPU2, value=np.ones((6, 2)), grad_stype="row_sparse")
    t = mx.gluon.Trainer(
        [p], "sgd", {"learning_rate": 1.0, "momentum": 0.5}, update_on_kvstore=False
    )
    _rsp_backward(p, [[0, 1], [1, 4]])
    t.step(1)
    for g in p.list_grad():  # the merged rows in every buffer
        assert g.indices.asnumpy().tolist() == [0, 1, 4]
        assert g.data.asnumpy()[:, 0].tolist() == [1.0, 2.0, 1.0]
    expected = np.ones((6, 2), np.float32)
    expected[[0, 4]] -= 1.0
    expected[1] -= 2.0
    for d in p.list_data():
        np.testing.assert_array_equal(d.asnumpy(), expected)


def test_allreduce_grads_merges_row_sparse_gradients():
    p = make("e", shape=(6, 2), ctx=CPU2, grad_stype="row_sparse")
    t = mx.gluon.Trainer([p], "sgd", update_on_kvstore=False)
    _rsp_backward(p, [[3], [5]])
    t.allreduce_grads()
    assert [g.indices.asnumpy().tolist() for g in p.list_grad()] == [[3, 5], [3, 5]]


def test_d2l_K5_sparse_grad_embedding_updates_only_touched_rows():
    embed, trainer, idx = _word2vec_like(
        "sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01}, sparse_grad=True
    )
    before = embed.weight.data().asnumpy()
    with mx.autograd.record():
        loss = embed(idx).sum()
    loss.backward()
    g = embed.weight.grad()
    assert g.stype == "row_sparse"
    assert g.indices.asnumpy().tolist() == [1, 2, 3, 5]
    assert g.data.asnumpy()[:, 0].tolist() == [2.0, 1.0, 2.0, 1.0]
    assert g.tostype("default").asnumpy()[0].tolist() == [0.0] * 4
    trainer.step(2)
    after = embed.weight.data().asnumpy()
    touched = [1, 2, 3, 5]
    untouched = [i for i in range(20) if i not in touched]
    np.testing.assert_array_equal(after[untouched], before[untouched])
    assert (after[touched] != before[touched]).all()


# ----------------------------------------------------------------------------- every device pair
@pytest.mark.parametrize("kw", [{}, {"update_on_kvstore": False}])
def test_replicas_identical_and_grads_per_mode_on_each_device_pair(ctx_list, kw):
    w = make("w", (4, 3), ctx=ctx_list)
    t = mx.gluon.Trainer([w], "adam", {"learning_rate": 0.1, "wd": 0.01}, **kw)
    for _ in range(3):
        coefs = backward([w], ctxs=ctx_list)
        t.step(2)
        assert replicas_equal(w)
    grads = host(w.list_grad())
    if kw:
        for g in grads:
            np.testing.assert_allclose(g, coefs[0][0] + coefs[0][1], rtol=1e-6)
    else:
        for g, c in zip(grads, coefs[0]):
            np.testing.assert_array_equal(g, c)


def test_row_sparse_pull_on_each_device_pair(ctx_list):
    p = rsp_param(ctx=ctx_list)
    t = mx.gluon.Trainer([p], "sgd", {"learning_rate": 1.0})
    r = p.row_sparse_data(mx.nd.array([5, 2], ctx=ctx_list[1]))
    assert r.context == ctx_list[1] and r.indices.asnumpy().tolist() == [2, 5]
    _rsp_backward(p, [[1], [1]], ctxs=ctx_list)
    t.step(1)
    rows = p.list_row_sparse_data(mx.nd.array([1]))
    for x in rows:
        assert x.data.asnumpy().tolist() == [[0.0, 1.0]]


def test_reset_ctx_after_the_trainer_is_a_clear_error():
    w = make(ctx=CPU2)
    t = mx.gluon.Trainer([w], "sgd")
    w.reset_ctx([mx.cpu(1), mx.cpu(2)])
    backward([w])
    with pytest.raises(RuntimeError, match="create a new Trainer"):
        t.step(1)


def test_states_move_between_update_modes(tmp_path):
    runs = []
    for kw in ({}, {"update_on_kvstore": False}, {"kvstore": None}):
        ps = [make("w", (3, 4), ctx=CPU2, value=np.full((3, 4), 0.5))]
        runs.append(
            (ps, mx.gluon.Trainer(ps, "sgd", {"learning_rate": 0.1, "momentum": 0.9}, **kw))
        )
    (pa, ta), (pb, tb), (pc, tc) = runs
    _train(ta, pa, 2, seed=4)
    ta.save_states(str(tmp_path / "store.states"))  # one state set: the store's
    for p, t in ((pb, tb), (pc, tc)):
        p[0].set_data(pa[0].data(mx.cpu(0)))
        t.load_states(str(tmp_path / "store.states"))  # given to every context
    store_state = ta._store_updater.states[0].asnumpy()
    for upd in tc._updaters:  # kvstore=None: every context starts from the store's momentum
        np.testing.assert_array_equal(upd.states[0].asnumpy(), store_state)
    for p, t in runs[:2]:
        _train(t, p, 2, seed=5)
    for x, y in zip(host(pa[0].list_data()), host(pb[0].list_data())):
        np.testing.assert_array_equal(x, y)


def test_forged_state_shapes_are_refused(tmp_path):
    import io
    import json
    import zipfile

    (pa, ta), _ = _pair([mx.cpu(0)], "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    _train(ta, pa, 1, seed=0)
    ta.save_states(str(tmp_path / "s"))
    with zipfile.ZipFile(tmp_path / "s") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    header = json.loads(np.load(io.BytesIO(members["header.npy"])).tobytes())
    header["arrays"]["a0"]["shape"] = [2, 2]
    buf = io.BytesIO()
    np.save(buf, np.zeros((2, 2), np.float32))
    members["a0.npy"] = buf.getvalue()
    buf = io.BytesIO()
    np.save(buf, np.frombuffer(json.dumps(header).encode(), np.uint8))
    members["header.npy"] = buf.getvalue()
    with zipfile.ZipFile(tmp_path / "forged", "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    before = _trainer_snapshot(ta)
    with pytest.raises(CheckpointFormatError, match="shape"):
        ta.load_states(str(tmp_path / "forged"))
    assert _trainer_snapshot(ta) == before
