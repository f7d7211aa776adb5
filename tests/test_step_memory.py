"""Memory of a training step: what backward keeps, where gradients go, the optimizer's scratch.

NumPy reports its allocations to ``tracemalloc``, so the bounds below are the
arrays a step holds at once, computed from the model's sizes.
"""

from __future__ import annotations

import gc
import itertools
import tracemalloc
import weakref

import numpy as np
import pytest

import paramlab as mx
from paramlab import autograd

nd = mx.nd

WIDTHS = (256, 512, 512, 10)
BATCH = 64
ITEM = 4  # float32


def _mlp():
    net = mx.gluon.nn.Sequential()
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(WIDTHS)):
        net.add(mx.gluon.nn.Dense(fan_out, activation="relu" if i < 2 else None, in_units=fan_in))
    net.initialize(mx.init.Xavier())
    rng = np.random.default_rng(0)
    x = nd.array(rng.standard_normal((BATCH, WIDTHS[0])).astype(np.float32))
    y = nd.array(rng.integers(0, WIDTHS[-1], BATCH).astype(np.float32))
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01})

    def step():
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(BATCH)

    return net, step


def _traced(fn):
    """``(peak, retained)`` bytes that ``fn()`` allocates, by ``tracemalloc``."""
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        fn()
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start, current - start


def test_warm_step_holds_at_most_five_activations():
    # Two saved ReLU outputs, the gradient coming back and the one going on; the
    # fifth covers the ReLU's boolean mask and the loss's small arrays. Weight
    # gradients go straight into their buffers and pre-activations are freed by
    # the forward pass.
    _, step = _mlp()
    step()
    peak, retained = _traced(step)
    activation = BATCH * max(WIDTHS[1:-1]) * ITEM
    assert peak <= 5 * activation + 64 * 1024, peak
    assert retained <= 16 * 1024, retained


def test_first_step_keeps_one_scratch_as_large_as_the_largest_weight():
    net, step = _mlp()
    _, retained = _traced(step)
    largest = max(p.data().size for p in net.collect_params().values()) * ITEM
    assert largest <= retained <= largest + 64 * 1024, retained


def test_dense_gradients_are_written_into_the_buffers():
    net, step = _mlp()
    params = list(net.collect_params().values())
    buffers = [p.grad()._data for p in params]
    step()
    rng = np.random.default_rng(1)
    x = nd.array(rng.standard_normal((BATCH, WIDTHS[0])).astype(np.float32))
    with autograd.record():
        out = net(x).sum()
    expected = autograd.grad(out, [p.data() for p in params], retain_graph=True)
    out.backward()
    for p, buf, want in zip(params, buffers, expected):
        assert p.grad()._data is buf
        np.testing.assert_array_equal(buf, want.asnumpy())


@pytest.mark.parametrize("fc_first", [True, False])
def test_a_buffer_the_graph_reads_is_written_after_the_walk(fc_first):
    x = nd.array(np.arange(6.0).reshape(2, 3))
    w = nd.ones((4, 3))
    w.attach_grad()
    v = nd.ones((4, 3))
    v.attach_grad()
    old = np.full((4, 3), 7.0)
    w.grad[:] = old
    with autograd.record():
        dense = nd.FullyConnected(x, w, num_hidden=4, no_bias=True).sum()
        read = (w.grad * v).sum()  # reads w's buffer: d read / d v is its old value
        z = dense + read if fc_first else read + dense
    z.backward()
    np.testing.assert_array_equal(v.grad.asnumpy(), old)
    np.testing.assert_array_equal(w.grad.asnumpy(), np.tile(x.asnumpy().sum(axis=0), (4, 1)))


def test_an_added_gradient_still_accumulates():
    w = nd.ones((2, 3))
    w.attach_grad("add")
    x = nd.array(np.arange(6.0).reshape(2, 3))
    for _ in range(2):
        with autograd.record():
            y = nd.FullyConnected(x, w, num_hidden=2, no_bias=True).sum()
        y.backward()
    np.testing.assert_array_equal(w.grad.asnumpy(), 2 * np.tile(x.asnumpy().sum(axis=0), (2, 1)))


def _activation_grad(act_type, keep_input):
    """``d sum(2 * act(x @ w.T)) / dw`` from a first and from a retained second backward."""
    x = nd.array(np.linspace(-1.0, 1.0, 12).reshape(3, 4))
    w = nd.array(np.linspace(-0.5, 0.5, 20).reshape(5, 4))
    w.attach_grad()
    with autograd.record():
        pre = nd.FullyConnected(x, w, num_hidden=5, no_bias=True)
        ref = weakref.ref(pre)
        y = (nd.Activation(pre, act_type=act_type) * 2).sum()
        if not keep_input:
            del pre
            assert ref() is None  # the activation keeps its output; its node, the input weakly
    y.backward(retain_graph=True)
    first = w.grad.asnumpy().copy()
    y.backward()
    return first, w.grad.asnumpy()


@pytest.mark.parametrize("act_type", ["relu", "tanh", "sigmoid"])
def test_an_activation_input_is_freed_by_the_forward_pass(act_type):
    kept = _activation_grad(act_type, keep_input=True)
    freed = _activation_grad(act_type, keep_input=False)
    for got, want in zip(freed, kept):  # the link recorded for the freed input routes the same
        np.testing.assert_array_equal(got, want)
    assert np.any(kept[0] != 0)


def test_a_backward_that_fails_in_user_code_leaves_every_gradient_as_it_was(broken_op):
    net, _ = _mlp()
    params = list(net.collect_params().values())
    for i, p in enumerate(params):
        p.grad()[:] = float(i + 1)
    before = [p.grad().asnumpy().copy() for p in params]
    x = nd.ones((BATCH, WIDTHS[0]))
    x.attach_grad()
    with autograd.record():
        out = net(broken_op()(x)).sum()  # the user op runs last in the walk, after every Dense
    with pytest.raises(ValueError, match="no gradient today"):
        out.backward()
    for p, want in zip(params, before):
        np.testing.assert_array_equal(p.grad().asnumpy(), want)
