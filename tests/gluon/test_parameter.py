"""Parameter: every seed item, on cpu(0) and cpu(1) together, with the error contract."""

from __future__ import annotations

import gc
import warnings
import weakref

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramlab as mx
from paramlab.gluon import DeferredInitializationError, Parameter

CTXS = [mx.cpu(0), mx.cpu(1)]


def snapshot(p):
    """Everything observable about a parameter, to compare before and after a failure."""
    state = {
        "shape": p.shape,
        "dtype": p.dtype,
        "grad_req": p.grad_req,
        "lr_mult": p.lr_mult,
        "wd_mult": p.wd_mult,
        "pending": p._pending,
        "ctx": list(p._ctx_list),
    }
    if p._replicas:
        state["data"] = [(d.asnumpy().tobytes(), d.version, id(d)) for d in p._replicas.values()]
        state["grads"] = [(g.asnumpy().tobytes(), id(g)) for g in p._grads.values()]
    return state


def make(shape=(3, 4), grad_req="write", ctx=CTXS, **kw):
    init = mx.init.Xavier() if len(shape) >= 2 else mx.init.Uniform()
    p = Parameter("fc_weight", shape=shape, grad_req=grad_req, init=init, **kw)
    p.initialize(ctx=ctx)
    return p


# ----------------------------------------------------------------------------- construction
def test_defaults_follow_mxnet():
    p = Parameter("w")
    assert (p.name, p.grad_req, p.shape, p.dtype, p.lr_mult, p.wd_mult, p.init) == (
        "w",
        "write",
        None,
        np.float32,
        1.0,
        1.0,
        None,
    )
    assert Parameter().name == "weight"  # the 2.0 default name


def test_int_shape_becomes_tuple_and_repr():
    p = Parameter("fc_weight", shape=4)
    assert p.shape == (4,)
    assert repr(p) == "Parameter fc_weight (shape=(4,), dtype=<class 'numpy.float32'>)"
    assert repr(Parameter("b", shape=(2, 3), dtype="float16")) == (
        "Parameter b (shape=(2, 3), dtype=float16)"
    )

def test_every_attribute_is_first_set_in_the_constructor():
    """A lifecycle adds no attribute: instances keep one shared attribute layout.

    (CPython gives an instance whose attribute was first set outside ``__init__``, once
    many instances exist, a dictionary of its own: one more object per parameter.)
    """
    attributes = set(vars(Parameter("fresh")))
    net = mx.gluon.nn.Dense(3, in_units=4)
    net.initialize(ctx=CTXS)
    p = net.weight
    p.observe(lambda *event: None)
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    with mx.autograd.record():
        loss = net(mx.nd.ones((2, 4), ctx=mx.cpu(0))).sum()
    loss.backward()
    trainer.step(2, ignore_stale_grad=True)
    p.set_data(mx.nd.zeros((3, 4)))
    p.grad_req = "add"
    p.zero_grad()
    p.cast("float64")
    p.reset_ctx(mx.cpu(1))
    p.initialize(init=mx.init.Normal(), ctx=CTXS, force_reinit=True)
    deferred = Parameter("late", shape=(0, 4), allow_deferred_init=True)
    deferred.initialize(ctx=CTXS)
    deferred.shape = (3, 4)
    deferred._finish_deferred_init()
    for param in (p, net.bias, deferred):
        assert set(vars(param)) == attributes


@pytest.mark.parametrize("kw", [{"stype": "dense"}, {"grad_stype": "coo"}])
def test_bad_stype_is_a_value_error(kw):
    with pytest.raises(ValueError, match="must be one of"):
        Parameter("w", **kw)


def test_unknown_dtype_is_a_type_error():
    with pytest.raises(TypeError, match="floot32"):
        Parameter("w", dtype="floot32")


def test_non_differentiable_forces_null():
    p = Parameter("running_mean", shape=(3,), differentiable=False)
    assert p.grad_req == "null"
    p.grad_req = "write"
    assert p.grad_req == "null"


# ----------------------------------------------------------------------------- replicas
def _replica_state(p):
    r = p.list_data()[0]
    return (
        r.asnumpy().tobytes(),
        r.version,
        r._grad_req,
        r._node,
        r._grad,
        p.list_grad()[0].asnumpy().tobytes() if p.grad_req != "null" else None,
        p._init_record,
    )


@pytest.mark.parametrize("grad_req", ["write", "add", "null"])
@pytest.mark.parametrize("init", [mx.init.Xavier(), mx.init.Normal(0.3), mx.init.One()])
def test_one_context_initialize_leaves_the_state_of_the_general_path(grad_req, init):
    """One host context, no observer: the drawn value becomes the replica in short.

    An observer sends the same request through the general path (replica tables, gradient
    buffers, hooks); the state must be the same, hook aside.
    """
    states = []
    for observed in (False, True):
        mx.random.seed(3)
        p = Parameter("w", shape=(5, 7), grad_req=grad_req, init=init)
        if observed:
            p.observe(lambda *event: None)
        p.initialize(ctx=mx.cpu(1))
        states.append(_replica_state(p))
    assert states[0] == states[1]
    assert states[0][1] == 0  # a new replica starts at version 0


def test_initialize_on_two_contexts_gives_identical_replicas():
    p = make()
    a, b = p.list_data()
    assert (a.context, b.context) == (mx.cpu(0), mx.cpu(1))
    np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    assert a is not b and a._data is not b._data


def test_exactly_k_data_and_k_grad_buffers():
    p = make(ctx=[mx.cpu(0), mx.cpu(1), mx.cpu(2)])
    assert len(p._replicas) == 3 and len(p._grads) == 3
    assert len({id(d._data) for d in p.list_data()} | {id(g._data) for g in p.list_grad()}) == 6
    p.grad_req = "null"
    assert len(p._grads) == 0
    assert all(d.grad is None for d in p.list_data())


def test_data_returns_the_live_buffer():
    p = make()
    p.data(mx.cpu(1))[:] = 7
    assert p.data(mx.cpu(1)) is p.list_data()[1]
    assert (p.data(mx.cpu(1)).asnumpy() == 7).all()
    assert not (p.data(mx.cpu(0)).asnumpy() == 7).all()


def test_data_without_ctx_uses_current_context():
    p = make()
    with mx.cpu(1):
        assert p.data().context == mx.cpu(1)
    single = make(ctx=mx.cpu(1))
    assert single.data().context == mx.cpu(1)  # only replica, whatever the current context


def test_cpu_pinned_looks_up_the_cpu_replica():
    p = make()
    assert p.data(mx.cpu_pinned(1)) is p.data(mx.cpu(1))


def test_missing_context_names_the_available_ones():
    p = make()
    with pytest.raises(
        RuntimeError, match=r"not initialized on context cpu\(2\).*cpu\(0\), cpu\(1\)"
    ):
        p.data(mx.cpu(2))


def test_grad_buffers_start_at_zero_and_zero_grad_keeps_objects():
    p = make()
    grads = p.list_grad()
    assert all((g.asnumpy() == 0).all() for g in grads)
    for g in grads:
        g[:] = 3
    p.zero_grad()
    assert p.list_grad()[0] is grads[0]
    assert all((g.asnumpy() == 0).all() for g in grads)


def test_grad_of_null_parameter_raises():
    p = make(grad_req="null")
    with pytest.raises(RuntimeError, match="grad_req='null'"):
        p.grad()
    with pytest.raises(RuntimeError, match="grad_req='null'"):
        p.list_grad()
    p.zero_grad()  # no-op


def test_grad_req_switch_recreates_zeroed_gradients():
    p = make(grad_req="add")
    p.grad(mx.cpu(0))[:] = 5
    old = p.grad(mx.cpu(0))
    p.grad_req = "write"
    assert p.grad(mx.cpu(0)) is not old
    assert (p.grad(mx.cpu(0)).asnumpy() == 0).all()
    values = p.data(mx.cpu(0)).asnumpy()
    p.grad_req = "null"
    np.testing.assert_array_equal(p.data(mx.cpu(0)).asnumpy(), values)
    p.grad_req = "add"
    assert [g.context for g in p.list_grad()] == CTXS


def test_bad_grad_req_is_a_value_error_and_changes_nothing():
    p = make()
    before = snapshot(p)
    with pytest.raises(ValueError, match=r"'write', 'add', or 'null'.*'bad'"):
        p.grad_req = "bad"
    assert snapshot(p) == before


# ----------------------------------------------------------------------------- states
def test_uninitialized_access_raises_runtime_error():
    p = Parameter("w", shape=(2,))
    for call in (p.data, p.list_data, p.grad, p.list_grad, p.list_ctx):
        with pytest.raises(RuntimeError, match="has not been initialized"):
            call()
    p.zero_grad()


def test_deferred_access_raises_deferred_initialization_error():
    p = Parameter("w", shape=(2, 0), allow_deferred_init=True)
    p.initialize(ctx=CTXS)
    assert issubclass(DeferredInitializationError, RuntimeError)
    with pytest.raises(DeferredInitializationError, match="deferred"):
        p.data()
    assert p.list_ctx() == CTXS
    p.shape = (2, 5)
    p._finish_deferred_init()
    assert [d.shape for d in p.list_data()] == [(2, 5), (2, 5)]


def test_unknown_shape_without_deferral_raises_and_stays_uninitialized():
    p = Parameter("w", shape=(2, 0))
    with pytest.raises(ValueError, match=r"invalid shape: \(2, 0\)"):
        p.initialize()
    with pytest.raises(RuntimeError, match="has not been initialized"):
        p.data()


def test_second_initialize_warns_and_keeps_values():
    p = make()
    values = p.data(mx.cpu(0)).asnumpy()
    with pytest.warns(UserWarning, match="already initialized, ignoring"):
        p.initialize(init=mx.init.One(), ctx=CTXS)
    np.testing.assert_array_equal(p.data(mx.cpu(0)).asnumpy(), values)
    p.initialize(init=mx.init.One(), ctx=CTXS, force_reinit=True)
    assert (p.data(mx.cpu(1)).asnumpy() == 1).all()


def test_initializer_precedence_argument_then_own_then_default():
    p = Parameter("w", shape=(2, 2), init=mx.init.Constant(3))
    p.initialize(default_init=mx.init.One())
    assert (p.data().asnumpy() == 3).all()
    p.initialize(init=mx.init.Zero(), force_reinit=True)
    assert (p.data().asnumpy() == 0).all()
    q = Parameter("w", shape=(2, 2))
    q.initialize(default_init=mx.init.One())
    assert (q.data().asnumpy() == 1).all()


def test_initialize_ignores_the_name_bias_gets_random_values():
    p = Parameter("fc_bias", shape=(1000,))
    p.initialize()  # default Uniform(0.07)
    values = p.data().asnumpy()
    assert values.std() > 0.01 and np.abs(values).max() <= 0.07


def test_failed_force_reinit_keeps_the_replicas():
    p = Parameter("v", shape=(5,), init=mx.init.One())
    p.initialize(ctx=CTXS)
    before = snapshot(p)
    with pytest.raises(ValueError, match="vector"):
        p.initialize(init=mx.init.Xavier(), ctx=CTXS, force_reinit=True)
    assert snapshot(p) == before


def test_random_init_into_integer_dtype_raises_and_changes_nothing():
    p = Parameter("w", shape=(2, 2), dtype="int32")
    with pytest.raises((TypeError, RuntimeError), match="int32"):
        p.initialize(init=mx.init.Uniform())
    assert p._replicas == {}


def test_initialize_with_string_and_json_initializers():
    p = Parameter("w", shape=(2, 2), init="ones")
    p.initialize()
    assert (p.data().asnumpy() == 1).all()
    q = Parameter("w", shape=(2, 2), init='["constant", {"value": 2.5}]')
    q.initialize()
    assert (q.data().asnumpy() == 2.5).all()


def test_bad_ctx_is_a_type_error():
    p = Parameter("w", shape=(2,))
    with pytest.raises(TypeError, match="Context"):
        p.initialize(ctx=3)
    with pytest.raises(ValueError, match="distinct"):
        p.initialize(ctx=[mx.cpu(0), mx.cpu(0)])
    assert p._replicas == {} and p._pending is None


# ----------------------------------------------------------------------------- shape
def test_shape_setter_fills_unknown_dims_only():
    p = Parameter("w", shape=(4, 0))
    p.shape = (4, 7)
    assert p.shape == (4, 7)
    for bad in [(5, 7), (4, 8), (4,), (4, 7, 1)]:
        with pytest.raises(ValueError, match="incompatible"):
            p.shape = bad
        assert p.shape == (4, 7)


def test_np_shape_reports_unknown_as_minus_one():
    p = Parameter("w", shape=(8, 0))
    with mx.util.np_shape(True):
        assert p.shape == (8, -1)
    assert p.shape == (8, 0)
    mx.npx.set_np()
    q = Parameter("w", shape=(8, -1))
    assert q.shape == (8, -1)
    q.shape = (8, 3)
    assert q.shape == (8, 3)


# ----------------------------------------------------------------------------- set_data
def test_set_data_writes_every_replica_in_the_parameter_dtype():
    p = make()
    src = np.arange(12, dtype=np.float64).reshape(3, 4)
    objects = [id(d) for d in p.list_data()]
    p.set_data(mx.nd.array(src, dtype="float64"))
    for d in p.list_data():
        assert d.dtype == np.float32
        np.testing.assert_array_equal(d.asnumpy(), src)
    assert [id(d) for d in p.list_data()] == objects
    p.set_data(src)  # a NumPy source works too


def test_set_data_copies_values():
    p = make()
    src = mx.nd.ones((3, 4))
    p.set_data(src)
    src[:] = 5
    assert (p.data(mx.cpu(0)).asnumpy() == 1).all()


@pytest.mark.parametrize("shape", [(1, 4), (4,), (4, 3), (3, 4, 1)])
def test_set_data_of_another_shape_raises_and_changes_nothing(shape):
    p = make()
    before = snapshot(p)
    with pytest.raises(ValueError, match=r"incompatible|expects shape"):
        p.set_data(mx.nd.ones(shape))
    assert snapshot(p) == before


def test_set_data_uninitialized_raises_without_touching_the_shape():
    p = Parameter("w", shape=(3, 0))
    with pytest.raises(RuntimeError, match="has not been initialized"):
        p.set_data(mx.nd.ones((3, 5)))
    assert p.shape == (3, 0)


def test_set_data_while_deferred_is_stashed_and_used():
    p = Parameter("w", shape=(3, 0), allow_deferred_init=True, init=mx.init.One())
    p.initialize(ctx=CTXS)
    p.set_data(mx.nd.full((3, 5), 4))
    assert p.shape == (3, 5)
    p._finish_deferred_init()
    assert all((d.asnumpy() == 4).all() for d in p.list_data())


def test_set_data_rejects_scalars_with_a_type_error():
    p = make()
    with pytest.raises(TypeError, match="NDArray"):
        p.set_data(3.0)


# ----------------------------------------------------------------------------- cast, reset_ctx
def test_cast_converts_values_and_accumulated_gradients():
    p = make(grad_req="add")
    p.grad(mx.cpu(1))[:] = 2
    values = p.data(mx.cpu(1)).asnumpy()
    p.cast("float16")
    assert p.dtype == "float16"
    assert all(d.dtype == np.float16 for d in p.list_data() + p.list_grad())
    np.testing.assert_allclose(p.data(mx.cpu(1)).asnumpy(), values, rtol=1e-3)
    assert (p.grad(mx.cpu(1)).asnumpy() == 2).all()
    p.dtype = "float64"
    assert p.data(mx.cpu(0)).dtype == np.float64


def test_cast_before_initialization_only_records_the_dtype():
    p = Parameter("w", shape=(2,), init=mx.init.One())
    p.cast("float64")
    p.initialize()
    assert p.data().dtype == np.float64


def test_bad_cast_raises_and_changes_nothing():
    p = make()
    before = snapshot(p)
    with pytest.raises(TypeError, match="complex"):
        p.cast("complex64")
    assert snapshot(p) == before


def test_reset_ctx_averages_diverged_replicas_and_zeroes_gradients():
    p = make(shape=(2,))
    p.data(mx.cpu(0))[:] = 1
    p.data(mx.cpu(1))[:] = 3
    p.grad(mx.cpu(0))[:] = 9
    p.reset_ctx([mx.cpu(2), mx.cpu(3)])
    assert p.list_ctx() == [mx.cpu(2), mx.cpu(3)]
    assert all((d.asnumpy() == 2).all() for d in p.list_data())
    assert all((g.asnumpy() == 0).all() for g in p.list_grad())
    assert p.grad_req == "write"


def test_reset_ctx_while_deferred_replaces_the_list():
    p = Parameter("w", shape=(0,), allow_deferred_init=True)
    p.initialize(ctx=mx.cpu(0))
    p.reset_ctx(CTXS)
    assert p.list_ctx() == CTXS


def test_reset_ctx_uninitialized_is_a_value_error():
    with pytest.raises(ValueError, match="Cannot reset context"):
        Parameter("w", shape=(2,)).reset_ctx(mx.cpu(1))


def test_device_spellings():
    p = Parameter("w", shape=(2,))
    p.initialize(device=[mx.cpu(0), mx.cpu(1)])
    assert p.list_device() == CTXS
    p.reset_device(mx.cpu(1))
    assert p.list_ctx() == [mx.cpu(1)]


# ----------------------------------------------------------------------------- var()
def test_var_attributes_and_cache():
    p = Parameter("fc_weight", shape=(4, 0), lr_mult=3, init=mx.init.Xavier(), stype="row_sparse")
    s = p.var()
    assert s is p.var() and s.name == "fc_weight"
    attrs = s.list_attr()
    assert attrs["__shape__"] == "(4, 0)"
    assert attrs["__lr_mult__"] == "3" and attrs["__wd_mult__"] == "1.0"
    assert attrs["__dtype__"] == "0" and attrs["__storage_type__"] == "1"
    assert attrs["__init__"] == mx.init.Xavier().dumps()
    p.cast("float16")
    assert p.var().attr("__dtype__") == "2"


# ----------------------------------------------------------------------------- row_sparse guards
def test_row_sparse_guards():
    p = Parameter("emb", shape=(5, 2), stype="row_sparse")
    with pytest.raises(RuntimeError, match="row_sparse_data"):
        p.data()
    with pytest.raises(RuntimeError, match="row_sparse_data"):
        p.list_data()
    dense = make()
    with pytest.raises(RuntimeError, match="Please use data"):
        dense.row_sparse_data(mx.nd.array([0]))
    with pytest.raises(TypeError, match="NDArray"):
        p.list_row_sparse_data([0, 1])


# ----------------------------------------------------------------------------- events
def test_events_reach_weakly_held_observers():
    p = Parameter("w", shape=(2,))
    seen = []

    class Watcher:
        def on_event(self, param, event, info):
            seen.append(event)

    w = Watcher()
    p.observe(w.on_event)
    p.initialize(ctx=CTXS)
    p.set_data(mx.nd.ones((2,)))
    p.zero_grad()
    p.cast("float64")
    p.reset_ctx(mx.cpu(0))
    assert seen == ["initialized", "data_set", "grad_zeroed", "cast", "initialized", "ctx_reset"]
    del w
    gc.collect()
    p.zero_grad()
    assert seen[-1] == "ctx_reset" and p._observers == []


# ----------------------------------------------------------------------------- Constant
def test_constant_float32_from_any_non_ndarray_value():
    c = mx.gluon.Constant("c", np.array([[1, 2], [3, 4]], dtype=np.int64))
    assert (c.dtype, c.shape, c.grad_req) == (np.float32, (2, 2), "null")
    assert mx.gluon.Constant(mx.nd.array([1, 2], dtype="int32")).dtype == np.int32
    assert mx.gluon.Constant([1.5]).name == "const"


def test_constant_grad_req_warns_and_stays_null():
    c = mx.gluon.Constant("c", [1, 2])
    with pytest.warns(UserWarning, match="does not support grad_req"):
        c.grad_req = "write"
    assert c.grad_req == "null"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c.grad_req = "null"


def test_constant_holds_its_value_and_has_no_gradient_buffers():
    c = mx.gluon.Constant("c", [[1, 2], [3, 4]])
    c.initialize(ctx=CTXS, default_init=mx.init.One())  # default init cannot override
    assert all(d.asnumpy().tolist() == [[1, 2], [3, 4]] for d in c.list_data())
    assert c._grads == {}
    with pytest.raises(RuntimeError, match="grad_req='null'"):
        c.grad()
    c.set_data(mx.nd.zeros((2, 2)))
    assert c.value.asnumpy().tolist() == [[1, 2], [3, 4]]
    c.initialize(init=mx.init.One(), ctx=CTXS, force_reinit=True)  # explicit init wins (quirk)
    assert (c.data(mx.cpu(1)).asnumpy() == 1).all()


# ----------------------------------------------------------------------------- autograd
def test_backward_writes_each_replica_own_gradient():
    p = make(shape=(2,))
    xs = {c: mx.nd.array([1.0, 2.0], ctx=c) * (i + 1) for i, c in enumerate(CTXS)}
    with mx.autograd.record():
        losses = [(p.data(c) * xs[c]).sum() for c in CTXS]
    for loss in losses:
        loss.backward()
    np.testing.assert_array_equal(p.grad(mx.cpu(0)).asnumpy(), [1, 2])
    np.testing.assert_array_equal(p.grad(mx.cpu(1)).asnumpy(), [2, 4])


def test_grad_req_add_accumulates_until_zero_grad():
    p = make(shape=(2,), grad_req="add", ctx=mx.cpu(1))
    x = mx.nd.array([1.0, 2.0], ctx=mx.cpu(1))
    for _ in range(3):
        with mx.autograd.record():
            y = (p.data() * x).sum()
        y.backward()
    np.testing.assert_array_equal(p.grad().asnumpy(), [3, 6])
    p.zero_grad()
    np.testing.assert_array_equal(p.grad().asnumpy(), [0, 0])


def test_in_place_write_to_a_replica_inside_record_raises():
    p = make()
    with mx.autograd.record(), pytest.raises(RuntimeError, match="computational graph"):
        p.data(mx.cpu(0))[:] = 1


def test_backward_notifies_observers_and_replicas_do_not_keep_the_parameter_alive():
    p = make(shape=(2,), ctx=mx.cpu(0))
    seen = []

    def watch(param, event, info):
        seen.append(event)

    p.observe(watch)
    replica = p.data()
    with mx.autograd.record():
        y = (replica * 2).sum()
    y.backward()
    assert seen == ["grad_written"]
    gc.collect()
    gc.disable()
    try:  # no reference cycle: dropping the parameter frees it without the collector
        ref = weakref.ref(p)
        del p
        assert ref() is None
    finally:
        gc.enable()
    with mx.autograd.record():
        y = (replica * 2).sum()
    y.backward()  # the hook of an orphaned replica does nothing
    np.testing.assert_array_equal(replica.grad.asnumpy(), [2, 2])


# ----------------------------------------------------------------------------- initialize paths
def test_user_subclass_of_a_builtin_writing_part_of_the_array_starts_from_zeros():
    class Corner(mx.init.Xavier):  # inherits Xavier's flag, overrides _init_weight
        def _init_weight(self, name, arr):
            arr[0, 0] = 7.0

    p = Parameter("w", shape=(3, 3), init=Corner())
    p.initialize(ctx=mx.cpu(0))
    expected = np.zeros((3, 3), np.float32)
    expected[0, 0] = 7.0
    np.testing.assert_array_equal(p.data().asnumpy(), expected)


def test_builtin_initializers_give_the_same_values_through_a_custom_default_init():
    class Caller(mx.init.Uniform):  # its own __call__: the generic, descriptor-based path
        def __call__(self, desc, arr):
            assert desc == "w" and desc.attrs["__init__"] is init
            super().__call__(desc, arr)

    init = mx.init.Xavier(rnd_type="gaussian")
    values = []
    for default in (None, Caller()):
        mx.random.seed(3)
        p = Parameter("w", shape=(5, 4), init=init)
        p.initialize(ctx=mx.cpu(0), default_init=default)
        values.append(p.data().asnumpy())
        assert p.data().version == 0 and p._init_record[1] == {("cpu", 0): 0}
    np.testing.assert_array_equal(values[0], values[1])


def test_verbose_default_init_logs_the_parameter_it_fills(caplog):
    init = mx.init.Uniform().set_verbosity(True, print_func=lambda arr: f"size {arr.size}")
    p = Parameter("w", shape=(2, 3), init=mx.init.Xavier())
    with caplog.at_level("INFO"):
        p.initialize(ctx=mx.cpu(0), default_init=init)
    expected = "Initialized w as Xavier(rnd_type='uniform', factor_type='avg', magnitude=3): size 6"
    assert expected in caplog.text


def test_parameter_dict_initialize_allocates_zeroed_gradients_up_front():
    params = mx.gluon.ParameterDict("net_")
    shapes = [(4, 3), (3,), (2, 2)]
    for i, shape in enumerate(shapes):
        params.get(f"w{i}", shape=shape, init=mx.init.One())
    params.get("frozen", shape=(2,), grad_req="null")
    params.get("later", shape=(0, 2), allow_deferred_init=True)
    params.initialize(ctx=CTXS)
    for i, shape in enumerate(shapes):
        grads = params.get(f"w{i}").list_grad()
        assert [g.shape for g in grads] == [shape, shape]
        assert all((g.asnumpy() == 0).all() and g.dtype == np.float32 for g in grads)
        assert grads[0]._data is not grads[1]._data
    assert params.get("frozen")._grads == {}
    assert params.get("later")._pending is not None
    later = params.get("later")
    later.shape = (3, 2)
    later._finish_deferred_init()
    assert later.grad(mx.cpu(1)).shape == (3, 2)


# ----------------------------------------------------------------------------- hypothesis
_bad_values = st.one_of(
    st.integers(-5, 5),
    st.text(max_size=5),
    st.none(),
    st.floats(allow_nan=True),
    st.tuples(st.integers(-3, 7), st.integers(-3, 7)),
    st.lists(st.integers(), max_size=3),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=st.sampled_from(
        ["set_data", "cast", "reset_ctx", "initialize", "grad_req", "shape", "data", "grad"]
    ),
    value=_bad_values,
)
def test_random_bad_arguments_follow_the_error_contract(method, value):
    p = make()
    p.grad(mx.cpu(0))[:] = 1.5
    before = snapshot(p)
    allowed = (ValueError, TypeError, RuntimeError, KeyError, IndexError)
    try:
        if method == "grad_req":
            p.grad_req = value
        elif method == "shape":
            p.shape = value
        elif method == "initialize":
            p.initialize(ctx=value, force_reinit=True)
        elif method in ("data", "grad"):
            getattr(p, method)(value)
        else:
            getattr(p, method)(value)
    except allowed as exc:
        assert "fc_weight" in str(exc) or method in ("data", "grad", "initialize", "reset_ctx")
        assert snapshot(p) == before
    except AssertionError:
        raise
    except Exception as exc:
        pytest.fail(f"{method}({value!r}) raised {type(exc).__name__}: {exc}")


def test_row_sparse_parameter_saves_every_row_from_its_trainer(tmp_path):
    p = Parameter("emb", shape=(6, 2), stype="row_sparse", init=mx.init.Constant(2.0))
    p.initialize(ctx=CTXS)
    trainer = mx.gluon.Trainer([p], "sgd")
    p.row_sparse_data(mx.nd.array([1], ctx=mx.cpu(0)))  # replica 0 now holds row 1 only
    value = p._reduce()
    assert value.shape == (6, 2) and (value.asnumpy() == 2).all()
    del trainer


# ----------------------------------------------------------------------------- init record, hooks
def test_init_record_names_the_drawing_initializer_until_values_are_copied():
    from paramlab.gluon.parameter import drawn_by

    init = mx.init.Xavier()
    p = Parameter("fc_weight", shape=(3, 4), init=init)
    assert p._init_record is None and drawn_by(p) is init
    p.initialize(ctx=CTXS)
    (by, default), versions = p._init_record
    assert by is init and default == mx.init.Uniform()
    assert versions == {("cpu", 0): 0, ("cpu", 1): 0} and drawn_by(p, current=True) is init
    p.data(mx.cpu(1))[:] = 1
    assert drawn_by(p, current=True) is None and drawn_by(p) is init
    p.reset_ctx(mx.cpu(0))
    assert p._init_record == (None, {("cpu", 0): 0}) and drawn_by(p) is None


def test_init_record_of_sparse_replicas_keeps_their_versions():
    p = Parameter("emb_weight", shape=(4, 2), stype="row_sparse", init=mx.init.One())
    p.initialize(ctx=mx.cpu(0))
    replica = p._replicas[("cpu", 0)]
    assert p._init_record == ((p.init, mx.init.Uniform()), {("cpu", 0): replica.version})


def test_grad_written_reaches_observers_added_before_or_after_initialize():
    for observe_first in (True, False):
        p = Parameter("w", shape=(2,), init=mx.init.One())
        seen = []

        def watch(param, event, info, seen=seen):
            if event == "grad_written":
                seen.append(info["ctx"])

        if observe_first:
            p.observe(watch)
        p.initialize(ctx=CTXS)
        if not observe_first:
            p.observe(watch)
        p.cast("float64")  # new replicas: the hooks follow them
        for c in CTXS:
            with mx.autograd.record():
                y = (p.data(c) * 2).sum()
            y.backward()
        assert seen == CTXS


def test_a_verbose_default_init_is_shown_a_wrapper_that_is_not_the_replica():
    shown = []
    default = mx.init.Uniform().set_verbosity(True, print_func=lambda a: shown.append(a) or "")
    p = Parameter("w", shape=(2, 3), init=mx.init.Xavier())
    p.initialize(ctx=mx.cpu(0), default_init=default)
    assert len(shown) == 1 and shown[0] is not p.data() and p.data().version == 0
    np.testing.assert_array_equal(shown[0].asnumpy(), p.data().asnumpy())
