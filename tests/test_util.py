"""NumPy-shape and NumPy-array modes (``mx.util``, ``npx.set_np``)."""

from __future__ import annotations

import threading

import pytest

import paramlab as mx
from paramlab import util


def test_default_is_mxnet_1x_mode():
    assert not util.is_np_shape() and not util.is_np_array()
    assert not mx.npx.is_np_array() and not mx.npx.is_np_shape()


def test_set_np_and_reset_np():
    mx.npx.set_np()
    assert util.is_np_shape() and util.is_np_array()
    assert mx.npx.is_np_array() and mx.npx.is_np_shape()
    mx.npx.reset_np()
    assert not util.is_np_shape() and not util.is_np_array()


def test_set_np_shape_only():
    util.set_np(shape=True, array=False)
    assert util.is_np_shape() and not util.is_np_array()


def test_array_mode_needs_shape_mode():
    with pytest.raises(ValueError, match="require NumPy-shape"):
        util.set_np(shape=False, array=True)
    assert not util.is_np_shape() and not util.is_np_array()


def test_setters_return_the_previous_state():
    assert util.set_np_shape(True) is False
    assert util.set_np_shape(False) is True
    assert util.set_np_array(1) is False
    assert util.is_np_array() is True
    assert util.set_np_array(0) is True


def test_np_shape_scope_restores():
    with mx.util.np_shape(True):
        assert util.is_np_shape()
        with mx.util.np_shape(False):
            assert not util.is_np_shape()
        assert util.is_np_shape()
    assert not util.is_np_shape()


def test_np_shape_scope_restores_after_exception():
    with pytest.raises(RuntimeError):
        with util.np_shape(True):
            raise RuntimeError("x")
    assert not util.is_np_shape()


def test_np_array_scope():
    with util.np_array(True):
        assert util.is_np_array()
    assert not util.is_np_array()


def test_np_shape_allows_zero_size_and_0d_in_nd():
    with util.np_shape(True):
        x = mx.nd.array(3.0)
        assert x.shape == ()
        y = mx.nd.arange(6).reshape((2, 3))[1, 2]
        assert y.shape == ()
    assert mx.nd.array(3.0).shape == (1,)


def test_use_np_on_a_function():
    @util.use_np
    def inside():
        return util.is_np_shape(), util.is_np_array()

    assert inside() == (True, True)
    assert not util.is_np_shape() and not util.is_np_array()
    assert inside.__name__ == "inside"


def test_use_np_restores_after_exception():
    @util.use_np
    def boom():
        raise KeyError("k")

    with pytest.raises(KeyError):
        boom()
    assert not util.is_np_array()


def test_use_np_on_a_class():
    @mx.npx.use_np
    class Thing:
        def __init__(self):
            self.seen_init = util.is_np_array()

        def method(self):
            return util.is_np_array()

        def __call__(self):
            return util.is_np_shape()

    t = Thing()
    assert t.seen_init and t.method() and t()
    assert not util.is_np_array()


def test_use_np_shape_and_use_np_array():
    @util.use_np_shape
    def shape_only():
        return util.is_np_shape(), util.is_np_array()

    @util.use_np_array
    def array_only():
        return util.is_np_array()

    assert shape_only() == (True, False)
    assert array_only() is True
    assert not util.is_np_shape() and not util.is_np_array()


def test_modes_are_per_thread():
    mx.npx.set_np()
    seen = []
    t = threading.Thread(target=lambda: seen.append((util.is_np_shape(), util.is_np_array())))
    t.start()
    t.join()
    assert seen == [(False, False)]
    assert util.is_np_array()
