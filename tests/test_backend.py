"""The backend: xp per context, device checks, transfers and their byte counts."""

from __future__ import annotations

import numpy as np
import pytest

import paramlab as mx
from paramlab import _backend
from paramlab.base import GPUUnavailableError

nd = mx.nd


# ----------------------------------------------------------------------------- xp and devices
@pytest.mark.parametrize("ctx", [mx.cpu(0), mx.cpu(1), mx.cpu_pinned(0), mx.cpu_shared(2)], ids=str)
def test_xp_for_host_contexts_is_numpy(ctx):
    assert _backend.xp_for(ctx) is np
    _backend.check_device(ctx)  # never raises for host contexts


def test_xp_of_and_is_gpu_array_on_host_arrays():
    a = np.ones(3)
    assert _backend.xp_of(a) is np
    assert not _backend.is_gpu_array(a)
    assert not _backend.is_gpu_array([1, 2])


def test_cupy_availability_is_reported_consistently():
    if _backend.cupy_available():
        assert _backend.cupy_missing_reason() is None
    else:
        reason = _backend.cupy_missing_reason()
        assert isinstance(reason, str) and "CuPy" in reason
        assert _backend.num_gpus() == 0


@pytest.mark.skipif(_backend.num_gpus() > 0, reason="needs a machine without a usable GPU")
def test_check_device_and_xp_for_missing_gpu():
    for call in (
        _backend.check_device,
        _backend.xp_for,
        _backend.device_scope,
        _backend.sparse_module,
    ):
        with pytest.raises(GPUUnavailableError, match=r"cannot allocate on gpu\(0\)"):
            call(mx.gpu(0))


@pytest.mark.gpu
def test_xp_for_gpu_is_cupy():
    import cupy

    assert _backend.xp_for(mx.gpu(0)) is cupy
    assert _backend.is_gpu_array(nd.ones((2,), ctx=mx.gpu(0)).handle)


def test_device_scope_on_cpu_is_a_null_context():
    with _backend.device_scope(mx.cpu(1)):
        pass


def test_special_and_sparse_modules_on_host():
    import scipy.sparse
    import scipy.special

    assert _backend.special_module(np.ones(1)) is scipy.special
    assert _backend.sparse_module(mx.cpu(1)) is scipy.sparse


# ----------------------------------------------------------------------------- raw transfers
def test_to_context_keeps_host_arrays_unless_asked():
    a = np.arange(4.0)
    with _backend.counting() as moved:
        same = _backend.to_context(a, mx.cpu(1))
        copied = _backend.to_context(a, mx.cpu(1), copy=True)
        cast = _backend.to_context(a, mx.cpu(0), dtype=np.float32)
    assert same is a
    assert copied is not a and np.array_equal(copied, a)
    assert cast.dtype == np.float32
    assert moved.total == 0


def test_copy_to_context_counts_cpu_to_cpu():
    a = np.ones((3, 4), np.float32)
    with _backend.counting() as moved:
        b = _backend.copy_to_context(a, mx.cpu(0), mx.cpu(1))
    assert b is not a and np.array_equal(a, b)
    assert moved.cpu_to_cpu == a.nbytes and moved.total == a.nbytes


def test_copy_into_counts_only_between_contexts():
    dst = np.zeros(5, np.float32)
    src = np.arange(5, dtype=np.float32)
    with _backend.counting() as moved:
        _backend.copy_into(dst, src)
        _backend.copy_into(dst, src, mx.cpu(0), mx.cpu(0))
    assert moved.total == 0
    with _backend.counting() as moved:
        _backend.copy_into(dst, src, mx.cpu(0), mx.cpu(1))
    assert moved.cpu_to_cpu == src.nbytes
    assert np.array_equal(dst, src)


def test_to_host_counts_a_host_read_without_copying():
    a = np.ones(8, np.float64)
    with _backend.counting() as moved:
        h = _backend.to_host(a)
    assert h is a
    assert moved.host_reads == 64


def test_counters_nest_and_feed_the_global_total():
    a = np.ones(4, np.float32)
    start = _backend.transfers.host_reads
    with _backend.counting() as outer:
        _backend.to_host(a)
        with _backend.counting() as inner:
            _backend.to_host(a)
    assert inner.host_reads == 16 and outer.host_reads == 32
    assert _backend.transfers.host_reads - start == 32
    stats = _backend.TransferStats(1, 2, 3, 4, 5)
    assert stats.total == 15


def test_counter_closed_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with _backend.counting() as moved:
            _ = 1 / 0
    _backend.to_host(np.ones(2))
    assert moved.total == 0


def test_from_dlpack_on_host_shares_memory():
    a = np.arange(3.0)
    b = _backend.from_dlpack(a)
    assert np.shares_memory(a, b)


def test_new_generator_on_cpu_is_numpy_pcg64():
    gen = _backend.new_generator(mx.cpu(0), np.random.SeedSequence(3))
    assert isinstance(gen.bit_generator, np.random.PCG64)


# ----------------------------------------------------------------------------- NDArray traffic
def test_asnumpy_is_a_counted_host_read():
    x = nd.ones((2, 3), ctx=mx.cpu(1))
    with _backend.counting() as moved:
        x.asnumpy()
    assert moved.host_reads == 24 and moved.total == 24


def test_array_protocol_is_a_counted_host_read_without_copy():
    x = nd.ones((2, 3))
    with _backend.counting() as moved:
        host = np.asarray(x)
    assert moved.host_reads == 24
    assert np.shares_memory(host, x.handle)


def test_copyto_another_cpu_counts_cpu_to_cpu():
    x = nd.ones((4, 5))
    with _backend.counting() as moved:
        x.copyto(mx.cpu(1))
        x.as_in_context(mx.cpu(2))
        x.copyto(nd.zeros((4, 5), ctx=mx.cpu(3)))
    assert moved.cpu_to_cpu == 3 * 80 and moved.total == 3 * 80


def test_pure_on_device_work_moves_nothing():
    x = nd.arange(12).reshape((3, 4))
    w = nd.ones((4, 2))
    with _backend.counting() as moved:
        y = (x * 2 + 1).sum(axis=0)
        z = nd.dot(x, w).relu().mean()
        x[:] = 3
        x += y.reshape((1, 4))
        x.copyto(mx.cpu(0))
        x.copyto(nd.zeros((3, 4)))
        x.as_in_context(mx.cpu(0))
        x.T.reshape((-1,)).topk(k=2)
        nd.concat(x, x, dim=0)
        x.wait_to_read()
        nd.waitall()
        del z
    assert moved.total == 0


def test_autograd_on_one_context_moves_nothing():
    x = nd.ones((3,))
    x.attach_grad()
    with _backend.counting() as moved:
        with mx.autograd.record():
            y = (x * x).sum()
        y.backward()
    assert moved.total == 0


def test_gradient_through_copy_between_cpus_is_counted_both_ways():
    x = nd.ones((3,))
    x.attach_grad()
    with _backend.counting() as moved:
        with mx.autograd.record():
            y = (x.copyto(mx.cpu(1)) * 2).sum()
        y.backward()
    assert moved.cpu_to_cpu == 2 * 12
    assert x.grad.asnumpy().tolist() == [2.0, 2.0, 2.0]
