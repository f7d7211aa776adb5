"""The autograd engine: recording flags, backward into buffers, grad(), graph release."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import paramlab as mx
from paramlab import autograd
from paramlab._autograd import engine
from paramlab.base import ContextMismatchError, MXNetError

nd = mx.nd


def _snapshot(*arrays):
    return [(a.asnumpy().copy(), a.version) for a in arrays]


def _unchanged(snap, *arrays):
    for (values, version), a in zip(snap, arrays):
        np.testing.assert_array_equal(a.asnumpy(), values)
        assert a.version == version


def _var(values, ctx=None, grad_req="write"):
    x = nd.array(values, ctx=ctx)
    x.attach_grad(grad_req)
    return x


# ----------------------------------------------------------------------------- flags
def test_flags_default_off():
    assert not autograd.is_recording() and not autograd.is_training()


def test_record_sets_recording_and_training():
    with autograd.record():
        assert autograd.is_recording() and autograd.is_training()
        with autograd.pause():
            assert not autograd.is_recording() and not autograd.is_training()
            with autograd.record():
                assert autograd.is_recording()
            assert not autograd.is_recording()
        with autograd.pause(train_mode=True):
            assert autograd.is_training() and not autograd.is_recording()
        assert autograd.is_recording() and autograd.is_training()
    assert not autograd.is_recording() and not autograd.is_training()


def test_record_predict_mode():
    with autograd.record(train_mode=False):
        assert autograd.is_recording() and not autograd.is_training()


def test_train_and_predict_mode_scopes():
    with autograd.train_mode():
        assert autograd.is_training() and not autograd.is_recording()
        with autograd.predict_mode():
            assert not autograd.is_training()
        assert autograd.is_training()
    assert not autograd.is_training()


def test_flags_restored_after_exception():
    with pytest.raises(ValueError):
        with autograd.record():
            raise ValueError("x")
    assert not autograd.is_recording() and not autograd.is_training()


def test_set_recording_and_set_training_return_previous():
    assert autograd.set_recording(True) is False
    assert autograd.set_recording(False) is True
    assert autograd.set_training(True) is False
    assert autograd.set_training(False) is True


def test_flags_are_per_thread():
    seen = []
    with autograd.record():
        t = threading.Thread(target=lambda: seen.append(autograd.is_recording()))
        t.start()
        t.join()
    assert seen == [False]


def test_nothing_recorded_outside_record():
    x = _var([1.0, 2.0])
    y = x * 2
    assert y._node is None
    with autograd.record():
        z = x * 2
        w = nd.ones((2,)) * 2  # no input needs a gradient: nothing recorded
    assert z._node is not None and w._node is None


# ----------------------------------------------------------------------------- backward
def test_backward_writes_gradient(ctx):
    x = _var([1.0, 2.0, 3.0], ctx)
    with autograd.record():
        y = (x * x).sum()
    y.backward()
    assert x.grad.context == ctx
    np.testing.assert_array_equal(x.grad.asnumpy(), [2.0, 4.0, 6.0])


def test_write_overwrites_and_add_accumulates():
    w = _var([1.0, 2.0], grad_req="write")
    a = _var([1.0, 2.0], grad_req="add")
    for _ in range(3):
        with autograd.record():
            y = (w * 3).sum() + (a * 3).sum()
        y.backward()
    np.testing.assert_array_equal(w.grad.asnumpy(), [3.0, 3.0])
    np.testing.assert_array_equal(a.grad.asnumpy(), [9.0, 9.0])


def test_backward_bumps_the_gradient_version():
    x = _var([1.0])
    v = x.grad.version
    with autograd.record():
        y = x * 2
    y.backward()
    assert x.grad.version == v + 1


def test_grad_req_null_gets_nothing():
    x = _var([1.0, 2.0], grad_req="null")
    assert x.grad is None
    w = _var([1.0, 2.0])
    with autograd.record():
        y = (x * w).sum()
    y.backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad.asnumpy(), [1.0, 2.0])


def test_attach_grad_bad_req():
    x = nd.ones((2,))
    with pytest.raises(ValueError, match="grad_req must be 'write', 'add' or 'null', got 'sum'"):
        x.attach_grad("sum")
    assert x.grad is None


def test_variable_used_twice_gets_the_sum():
    x = _var([1.0, 2.0, 3.0])
    with autograd.record():
        y = x * x + x * 3 + x
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 2 * np.array([1.0, 2.0, 3.0]) + 4)


def test_diamond_graph():
    x = _var([2.0])
    with autograd.record():
        a = x * 3
        b = a.exp()
        c = a * a
        y = b + c
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 3 * np.exp(6.0) + 2 * 6.0 * 3, rtol=1e-6)


def test_default_head_gradient_is_ones_of_the_head_shape():
    x = _var([[1.0, 2.0], [3.0, 4.0]])
    with autograd.record():
        y = x * 2
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), np.full((2, 2), 2.0))


def test_explicit_head_gradient():
    x = _var([1.0, 2.0])
    with autograd.record():
        y = x * x
    y.backward(nd.array([10.0, 100.0]))
    np.testing.assert_array_equal(x.grad.asnumpy(), [20.0, 400.0])


def test_backward_of_several_heads():
    x = _var([1.0, 2.0])
    with autograd.record():
        a = x * 2
        b = x * x
    autograd.backward([a, b], [nd.ones((2,)), nd.array([1.0, 0.5])])
    np.testing.assert_array_equal(x.grad.asnumpy(), [4.0, 4.0])


def test_a_variable_as_its_own_head():
    x = _var([1.0, 2.0])
    x.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [1.0, 1.0])


def test_unreached_variable_keeps_its_buffer():
    x, z = _var([1.0]), _var([5.0])
    z.grad[:] = 7
    with autograd.record():
        y = x * 2
    y.backward()
    np.testing.assert_array_equal(z.grad.asnumpy(), [7.0])


def test_detach_and_stop_gradient_cut_the_graph():
    x = _var([1.0, 2.0])
    with autograd.record():
        y = (x * x).detach() * x + nd.stop_gradient(x * 5)
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [1.0, 4.0])


def test_pause_inside_record_is_not_recorded():
    x = _var([3.0])
    with autograd.record():
        with autograd.pause():
            c = x * 10
        y = x * c
    assert c._node is None
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [30.0])


def test_backward_across_contexts(ctx_list):
    a, b = ctx_list
    x = _var([1.0, 2.0], a)
    with autograd.record():
        y = (x.copyto(b) * 3).sum()
    assert y.context == b
    y.backward()
    assert x.grad.context == a
    np.testing.assert_array_equal(x.grad.asnumpy(), [3.0, 3.0])


# ----------------------------------------------------------------------------- errors
def test_backward_outside_record_raises_and_changes_nothing():
    x = _var([1.0, 2.0])
    x.grad[:] = 5
    snap = _snapshot(x, x.grad)
    y = x * 2
    with pytest.raises(MXNetError, match="not in a computational graph"):
        y.backward()
    with pytest.raises(RuntimeError):
        autograd.backward(nd.ones((1,)))
    _unchanged(snap, x, x.grad)


@pytest.mark.parametrize(
    ("head_grad", "error", "match"),
    [
        (
            lambda: nd.ones((3,)),
            ValueError,
            r"head gradient shape \(3,\) does not match head "
            r"shape \(2,\)",
        ),
        (lambda: nd.ones((2,), ctx=mx.cpu(1)), ContextMismatchError, r"cpu\(1\).*cpu\(0\)"),
        (lambda: np.ones(2), TypeError, "head gradients must be NDArrays, got ndarray"),
    ],
    ids=["shape", "context", "type"],
)
def test_head_gradient_validation(head_grad, error, match):
    x = _var([1.0, 2.0])
    with autograd.record():
        y = x * 2
    snap = _snapshot(x, x.grad)
    with pytest.raises(error, match=match):
        y.backward(head_grad())
    _unchanged(snap, x, x.grad)
    y.backward()  # the graph survived the refused call
    np.testing.assert_array_equal(x.grad.asnumpy(), [2.0, 2.0])


def test_head_count_mismatch_and_bad_heads():
    x = _var([1.0])
    with autograd.record():
        y = x * 2
    with pytest.raises(ValueError, match="got 1 heads but 2 head gradients"):
        autograd.backward([y], [nd.ones((1,)), nd.ones((1,))])
    with pytest.raises(ValueError, match="at least one head"):
        autograd.backward([])
    with pytest.raises(TypeError, match="heads must be NDArrays, got list"):
        autograd.backward([[1.0]])


def test_second_backward_without_retain_graph_raises():
    x = _var([1.0, 2.0])
    with autograd.record():
        y = (x * x).sum()
    y.backward()
    snap = _snapshot(x.grad)
    with pytest.raises(MXNetError, match="retain_graph=True"):
        y.backward()
    _unchanged(snap, x.grad)


def test_retain_graph_allows_a_second_backward():
    x = _var([1.0, 2.0], grad_req="add")
    with autograd.record():
        y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [4.0, 8.0])
    with pytest.raises(MXNetError):
        y.backward()


@pytest.mark.parametrize(
    "write",
    [
        lambda y: y.__setitem__(slice(None), 1.0),
        lambda y: y.__setitem__(0, 5.0),
        lambda y: y.__iadd__(1.0),
        lambda y: y.__imul__(10),
        lambda y: y.__itruediv__(2),
        lambda y: y.__isub__(nd.ones((3,))),
        lambda y: nd.ones((3,)).copyto(y),
    ],
    ids=["setitem-all", "setitem-one", "iadd", "imul", "idiv", "isub", "copyto"],
)
def test_inplace_write_to_a_recorded_array_raises(write):
    x = _var([1.0, 2.0, 3.0])
    with autograd.record():
        y = x * 2
        snap = _snapshot(x, y)
        with pytest.raises(MXNetError, match="already in a computational graph"):
            write(y)
        with pytest.raises(MXNetError, match="already in a computational graph"):
            write(x)
    _unchanged(snap, x, y)


def test_inplace_write_outside_record_or_off_graph_is_fine():
    x = _var([1.0, 2.0])
    x[:] = 3  # outside record
    with autograd.record():
        free = nd.ones((2,)) * 2
        free[:] = 7  # not part of any graph
        free += 1
    np.testing.assert_array_equal(free.asnumpy(), [8.0, 8.0])
    np.testing.assert_array_equal(x.asnumpy(), [3.0, 3.0])


# ----------------------------------------------------------------------------- grad()
def test_grad_returns_gradients_and_leaves_buffers():
    x = _var([1.0, 2.0, 3.0])
    z = _var([4.0])
    with autograd.record():
        y = (x * x).sum() * z
    gx, gz = autograd.grad(y, [x, z])
    np.testing.assert_array_equal(gx.asnumpy(), [8.0, 16.0, 24.0])
    np.testing.assert_array_equal(gz.asnumpy(), [14.0])
    np.testing.assert_array_equal(x.grad.asnumpy(), [0.0, 0.0, 0.0])
    assert x.grad.version == 0
    with pytest.raises(MXNetError):  # released by default
        autograd.grad(y, [x])


def test_grad_single_variable_and_unreached_variable():
    x, other = _var([2.0]), _var([1.0, 1.0])
    with autograd.record():
        y = x * x
    (gx,) = autograd.grad(y, x, retain_graph=True)
    np.testing.assert_array_equal(gx.asnumpy(), [4.0])
    (g_other,) = autograd.grad(y, [other], retain_graph=True)
    np.testing.assert_array_equal(g_other.asnumpy(), [0.0, 0.0])
    (gx2,) = autograd.grad(y, [x], head_grads=nd.array([3.0]))
    np.testing.assert_array_equal(gx2.asnumpy(), [12.0])


def test_grad_errors():
    x = _var([1.0])
    plain = nd.ones((1,))
    with autograd.record():
        y = x * 2
    with pytest.raises(ValueError, match="attach_grad"):
        autograd.grad(y, [plain])
    with pytest.raises(NotImplementedError, match="create_graph"):
        autograd.grad(y, [x], create_graph=True)


def test_mark_variables():
    x = nd.array([1.0, 2.0])
    g = nd.zeros((2,))
    autograd.mark_variables(x, g, "add")
    for _ in range(2):
        with autograd.record():
            y = (x * 4).sum()
        y.backward()
    assert x.grad is g
    np.testing.assert_array_equal(g.asnumpy(), [8.0, 8.0])
    with pytest.raises(ValueError, match="same length"):
        autograd.mark_variables([x], [g, g])
    with pytest.raises(ValueError, match="grad_req"):
        autograd.mark_variables([x], [g], "sometimes")
    with pytest.raises(ValueError, match=r"gradient shape \(3,\) differs"):
        autograd.mark_variables([x], [nd.zeros((3,))])


# ----------------------------------------------------------------------------- graph release
def _graph_nodes(head):
    seen, stack = {}, [head._node]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = weakref.ref(node)
        stack.extend(x._node for x in node.inputs)
    return list(seen.values())


def _live_nodes():
    gc.collect()
    return sum(isinstance(o, engine.Node) for o in gc.get_objects())


def test_graph_is_released_after_backward():
    x = _var(np.arange(6.0).reshape(2, 3))
    w = _var(np.ones((3, 2)))
    before = _live_nodes()
    with autograd.record():
        h = nd.dot(x, w).tanh()
        y = ((h * h).exp() + x.sum(axis=1, keepdims=True)).mean()
    refs = _graph_nodes(y)
    assert len(refs) >= 6
    assert _live_nodes() - before == len(refs)
    del h
    y.backward()
    gc.collect()
    # only the head's own node survives, and it is released
    assert [r() for r in refs if r() is not None] == [y._node]
    assert y._node.released and y._node.inputs == ()
    assert _live_nodes() - before == 1
    del y
    assert _live_nodes() == before


def test_graph_is_kept_with_retain_graph_and_freed_with_its_arrays():
    x = _var([1.0, 2.0])
    before = _live_nodes()
    with autograd.record():
        y = ((x * 2).exp() * x).sum()
    y.backward(retain_graph=True)
    refs = _graph_nodes(y)
    assert all(r() is not None and not r().released for r in refs)
    del y
    gc.collect()
    assert all(r() is None for r in refs)
    assert _live_nodes() == before


def test_saved_arrays_are_dropped_after_backward():
    x = _var(np.ones(1000))
    with autograd.record():
        big = x * 3
        y = (big * big).sum()
    ref = weakref.ref(big)
    del big
    assert ref() is not None  # the graph holds it
    y.backward()
    gc.collect()
    assert ref() is None


# ----------------------------------------------------------------------------- user Functions
class _Square(autograd.Function):
    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, dy):
        (x,) = self.saved_tensors
        return dy * 2 * x


class _MulAdd(autograd.Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b + a

    def backward(self, dy):
        a, b = self.saved_tensors
        return dy * (b + 1), dy * a


def test_user_function(ctx):
    x = _var([1.0, -2.0, 3.0], ctx)
    with autograd.record():
        y = _Square()(x)
        z = (y * 3).sum()
    assert y.context == ctx
    np.testing.assert_array_equal(y.asnumpy(), [1.0, 4.0, 9.0])
    z.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [6.0, -12.0, 18.0])


def test_user_function_two_inputs():
    a, b = _var([2.0, 3.0]), _var([5.0, 7.0])
    with autograd.record():
        y = _MulAdd()(a, b)
    y.backward()
    np.testing.assert_array_equal(a.grad.asnumpy(), [6.0, 8.0])
    np.testing.assert_array_equal(b.grad.asnumpy(), [2.0, 3.0])


def test_user_function_checks_inputs_and_gradient_count():
    class _Wrong(autograd.Function):
        def forward(self, a, b):
            return a + b

        def backward(self, dy):
            return (dy,)

    with pytest.raises(TypeError, match="inputs must be NDArrays"):
        _Square()(np.ones(2))
    with pytest.raises(ContextMismatchError):
        _MulAdd()(nd.ones((1,)), nd.ones((1,), ctx=mx.cpu(1)))
    a, b = _var([1.0]), _var([2.0])
    with autograd.record():
        y = _Wrong()(a, b)
    with pytest.raises(MXNetError, match="returned 1 gradients for 2 inputs"):
        y.backward()


def test_user_function_without_backward():
    class _NoGrad(autograd.Function):
        def forward(self, a):
            return a * 1

    x = _var([1.0])
    with autograd.record():
        y = _NoGrad()(x)
    with pytest.raises(NotImplementedError, match="backward"):
        y.backward()
