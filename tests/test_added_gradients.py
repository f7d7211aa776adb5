"""Gradients added into their buffers (``grad_req='add'``): computed in a reused scratch.

A leaf whose whole gradient in a walk is one Dense weight or bias has it computed
into scratch memory the engine keeps between walks and adds into the buffer at
once, so that a warm accumulating pass allocates no temporary the size of a weight.
The sums must be exactly the ones a new temporary added at the end gives.
"""

from __future__ import annotations

import gc
import threading
import tracemalloc

import numpy as np
import pytest

import paramlab as mx
from paramlab import autograd

nd = mx.nd

UNITS, IN_UNITS, BATCH = 512, 512, 64


def _dense(grad_req="add", seed=0):
    """``(x, w, b)``: a batch and a Dense weight and bias with gradient buffers."""
    rng = np.random.default_rng(seed)
    x = nd.array(rng.standard_normal((BATCH, IN_UNITS), dtype=np.float32))
    w = nd.array(rng.standard_normal((UNITS, IN_UNITS), dtype=np.float32))
    b = nd.array(rng.standard_normal(UNITS, dtype=np.float32))
    for p in (w, b):
        p.attach_grad(grad_req)
    return x, w, b


def _loss(x, w, b):
    return nd.FullyConnected(x, w, b, num_hidden=UNITS).relu().square().sum()


def _passes(x, w, b, count):
    for _ in range(count):
        with autograd.record():
            y = _loss(x, w, b)
        y.backward()


def _expected_sums(x, w, b, count, start):
    """The buffers after ``count`` passes added at the end, one new gradient per pass."""
    sums = [s.copy() for s in start]
    for _ in range(count):
        with autograd.record():
            y = _loss(x, w, b)
        for total, g in zip(sums, autograd.grad(y, [w, b])):
            total += g.asnumpy()
    return sums


def test_added_gradients_are_the_sums_a_temporary_gives_bitwise():
    x, w, b = _dense()
    start = [np.full(w.shape, 0.25, np.float32), np.full(b.shape, -0.5, np.float32)]
    w.grad[:], b.grad[:] = start
    buffers = [w.grad._data, b.grad._data]
    want = _expected_sums(x, w, b, 3, start)
    _passes(x, w, b, 3)
    for p, buf, expected in zip((w, b), buffers, want):
        assert p.grad._data is buf
        assert p.grad.asnumpy().tobytes() == expected.tobytes()


def test_a_warm_accumulating_pass_allocates_no_weight_sized_temporary():
    x, w, b = _dense()
    _passes(x, w, b, 2)  # the first pass allocates the scratch
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        _passes(x, w, b, 1)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert peak < w.size * 4, peak


def test_an_added_buffer_the_graph_reads_is_added_after_the_walk():
    x = nd.array(np.arange(6.0).reshape(2, 3))
    w = nd.ones((4, 3))
    w.attach_grad("add")
    v = nd.ones((4, 3))
    v.attach_grad()
    old = np.full((4, 3), 7.0, np.float32)
    w.grad[:] = old
    with autograd.record():
        dense = nd.FullyConnected(x, w, num_hidden=4, no_bias=True).sum()
        z = dense + (w.grad * v).sum()  # d z / d v is w's buffer before the walk
    z.backward()
    np.testing.assert_array_equal(v.grad.asnumpy(), old)
    np.testing.assert_array_equal(w.grad.asnumpy(), old + x.asnumpy().sum(axis=0))


def test_a_weight_used_twice_adds_the_sum_of_its_gradients():
    x, w, b = _dense()
    w.grad[:] = 1.0
    with autograd.record():
        h = nd.FullyConnected(x, w, b, num_hidden=UNITS)
        y = h.sum() + nd.FullyConnected(x, w, b, num_hidden=UNITS).relu().sum()
    g_w, g_b = (g.asnumpy() for g in autograd.grad(y, [w, b], retain_graph=True))
    y.backward()
    assert w.grad.asnumpy().tobytes() == (np.float32(1.0) + g_w).tobytes()
    np.testing.assert_array_equal(b.grad.asnumpy(), g_b)


def test_a_failed_backward_leaves_added_buffers_as_they_were(broken_op):
    x, w, b = _dense()
    x.attach_grad()
    w.grad[:], b.grad[:] = 2.0, 3.0
    with autograd.record():
        y = _loss(broken_op()(x), w, b)  # the user op runs last in the walk, after the Dense
    with pytest.raises(ValueError, match="no gradient today"):
        y.backward()
    np.testing.assert_array_equal(w.grad.asnumpy(), 2.0)
    np.testing.assert_array_equal(b.grad.asnumpy(), 3.0)


def test_threads_accumulating_at_once_each_get_their_own_sums():
    # each thread keeps its own scratch: a walk never reads another thread's gradient
    # (a scratch shared by both threads makes this fail in most runs, not in every one)
    models = [_dense(seed=i) for i in range(2)]
    want = [
        _expected_sums(*m, 10, [np.zeros(m[1].shape, np.float32), np.zeros(UNITS, np.float32)])
        for m in models
    ]
    threads = [threading.Thread(target=_passes, args=(*m, 10)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (_, w, b), expected in zip(models, want):
        assert w.grad.asnumpy().tobytes() == expected[0].tobytes()
        assert b.grad.asnumpy().tobytes() == expected[1].tobytes()
