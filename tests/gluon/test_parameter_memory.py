"""What initialization allocates: gradient buffers on first use, replica memory reused.

``Parameter.initialize`` allocates the values only. A dense gradient buffer comes into
being when something needs it (backward, ``grad()``/``list_grad()``, a Trainer step) and
reads as zeros until backward writes it, exactly as MXNet's eagerly zeroed buffer would.
Re-initializing writes the copies into replica memory that nothing else holds.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import paramlab as mx
from paramlab.base import StaleGradientError
from paramlab.gluon import Parameter, nn

CPU2 = [mx.cpu(0), mx.cpu(1)]


def make(ctx=CPU2, shape=(3, 4), **kw):
    p = Parameter("w", shape=shape, init=mx.init.Uniform(1.0), **kw)
    p.initialize(ctx=ctx)
    return p


def loss_of(p, ctx, coef):
    """``sum(w * coef)`` on ``ctx``: its gradient with respect to ``w`` is ``coef``."""
    return (p.data(ctx) * mx.nd.array(coef, ctx=ctx)).sum()


def test_initialize_allocates_the_values_only():
    n = 512  # 1 MiB a buffer
    make(ctx=mx.cpu(0), shape=(n, n))  # first draws on cpu(0) make its streams: not measured
    p = Parameter("big", shape=(n, n), init=mx.init.Uniform())
    tracemalloc.start()
    try:
        p.initialize(ctx=mx.cpu(0))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert n * n * 4 <= peak < 1.5 * n * n * 4


@pytest.mark.parametrize("req", ["write", "add"])
def test_grad_reads_zeros_on_every_context(ctx, req):
    p = make(ctx=[ctx], grad_req=req)
    g = p.grad(ctx)
    assert g.shape == (3, 4) and g.dtype == np.float32 and g.context == ctx
    assert not g.asnumpy().any()
    assert p.grad(ctx) is g  # allocated once, then the same buffer
    assert p.data(ctx).grad is g


def test_list_grad_gives_one_buffer_per_context():
    p = make()
    grads = p.list_grad()
    assert [g.context for g in grads] == CPU2
    assert all(not g.asnumpy().any() for g in grads)
    assert [id(g) for g in p.list_grad()] == [id(g) for g in grads]


@pytest.mark.parametrize("req", ["write", "add"])
def test_backward_into_buffers_not_yet_allocated(req):
    p = make(grad_req=req)
    coefs = [np.arange(12, dtype=np.float32).reshape(3, 4) + k for k in range(2)]
    with mx.autograd.record():
        losses = [loss_of(p, c, coef) for c, coef in zip(CPU2, coefs)]
    mx.autograd.backward(losses)
    for c, coef in zip(CPU2, coefs):
        np.testing.assert_array_equal(p.grad(c).asnumpy(), coef)
    with mx.autograd.record():
        losses = [loss_of(p, c, coef) for c, coef in zip(CPU2, coefs)]
    mx.autograd.backward(losses)
    for c, coef in zip(CPU2, coefs):
        np.testing.assert_array_equal(p.grad(c).asnumpy(), coef * (2 if req == "add" else 1))


def test_backward_on_one_context_leaves_the_other_buffer_zero():
    p = make()
    coef = np.ones((3, 4), np.float32)
    with mx.autograd.record():
        loss = loss_of(p, mx.cpu(1), coef)
    loss.backward()
    np.testing.assert_array_equal(p.grad(mx.cpu(1)).asnumpy(), coef)
    assert not p.grad(mx.cpu(0)).asnumpy().any()


def test_step_before_any_backward_is_stale_and_changes_nothing():
    p = make()
    before = [d.asnumpy().copy() for d in p.list_data()]
    trainer = mx.gluon.Trainer([p], "sgd", {"learning_rate": 1.0, "wd": 0.1})
    with pytest.raises(StaleGradientError, match="`w` on context cpu"):
        trainer.step(1)
    trainer.step(1, ignore_stale_grad=True)  # every replica stale: skipped
    for d, b in zip(p.list_data(), before):
        np.testing.assert_array_equal(d.asnumpy(), b)


def test_step_after_backward_matches_plain_sgd():
    p = make()
    before = p.data(mx.cpu(0)).asnumpy().copy()
    coef = np.full((3, 4), 0.5, np.float32)
    trainer = mx.gluon.Trainer([p], "sgd", {"learning_rate": 0.1}, kvstore=None)
    with mx.autograd.record():
        losses = [loss_of(p, c, coef) for c in CPU2]
    mx.autograd.backward(losses)
    trainer.step(1)
    np.testing.assert_allclose(p.data(mx.cpu(0)).asnumpy(), before - 0.1 * coef, rtol=1e-6)


def test_zero_grad_of_buffers_not_yet_allocated_is_announced():
    p = make()
    events = []

    def record(param, event, info):  # observers are held weakly: keep this one alive
        events.append(event)

    p.observe(record)
    p.zero_grad()
    assert events == ["grad_zeroed"]
    assert all(not g.asnumpy().any() for g in p.list_grad())


def test_grad_req_change_gives_zero_buffers():
    p = make(ctx=mx.cpu(0))
    with mx.autograd.record():
        loss = loss_of(p, mx.cpu(0), np.ones((3, 4), np.float32))
    loss.backward()
    assert p.grad().asnumpy().all()
    p.grad_req = "add"
    assert not p.grad().asnumpy().any()
    p.grad_req = "null"
    with pytest.raises(RuntimeError, match="grad_req='null'"):
        p.grad()


@pytest.mark.parametrize("touched", [False, True])
def test_cast_converts_allocated_and_deferred_buffers(touched):
    p = make()
    if touched:
        p.list_grad()
    p.cast("float64")
    assert [g.dtype for g in p.list_grad()] == [np.float64, np.float64]


def test_block_parameters_get_their_buffers_up_front_and_train():
    net = nn.Dense(2, in_units=3)
    net.initialize(ctx=CPU2)
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    x = mx.nd.ones((4, 3))
    with mx.autograd.record():
        losses = [net(x.as_in_context(c)).sum() for c in CPU2]
    mx.autograd.backward(losses)
    trainer.step(4)
    grads = net.weight.list_grad()
    np.testing.assert_array_equal(grads[0].asnumpy(), np.full((2, 3), 4.0, np.float32))


# --------------------------------------------------------------------------- re-initialization
CPU4 = [mx.cpu(i) for i in range(4)]


def test_reinit_writes_the_copies_into_replica_memory_no_one_else_holds():
    n = 256  # 256 KiB a replica
    p = Parameter("w", shape=(n, n), init=mx.init.Xavier())
    p.initialize(ctx=CPU4)
    p.initialize(ctx=CPU4, force_reinit=True)  # first re-initialization: streams are made
    tracemalloc.start()
    try:
        p.initialize(ctx=CPU4, force_reinit=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * n * n * 4  # the new first value only: three copies reuse memory
    values = [d.asnumpy() for d in p.list_data()]
    assert all(np.array_equal(values[0], v) for v in values[1:])


@pytest.mark.parametrize("hold", ["replica", "raw handle", "graph"])
def test_reinit_leaves_a_replica_someone_holds_as_it_was(hold):
    p = Parameter("w", shape=(4, 5), init=mx.init.Xavier())
    p.initialize(ctx=CPU4)
    held = p.data(mx.cpu(2))
    before, memory = held.asnumpy().copy(), id(held._data)
    keep = {"replica": held, "raw handle": held.handle}.get(hold)
    if hold == "graph":
        with mx.autograd.record():
            keep = (held * held).sum()  # the recorded node holds the replica
    del held
    p.initialize(ctx=CPU4, force_reinit=True)
    assert id(p.data(mx.cpu(2))._data) != memory  # the held array is alive: not reused
    if hold == "raw handle":
        np.testing.assert_array_equal(keep, before)
    elif hold == "replica":
        np.testing.assert_array_equal(keep.asnumpy(), before)
    values = [d.asnumpy() for d in p.list_data()]
    assert all(np.array_equal(values[0], v) for v in values[1:])
    assert not np.array_equal(values[2], before)
