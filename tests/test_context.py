"""Contexts: construction, value semantics, the current context, GPU errors."""

from __future__ import annotations

import copy
import pickle
import threading

import pytest

import paramlab as mx
from paramlab import _backend
from paramlab.base import GPUUnavailableError, MXNetError
from paramlab.context import as_context, as_context_list


# ----------------------------------------------------------------------------- construction
def test_cpu_and_gpu_constructors():
    assert mx.cpu().device_type == "cpu" and mx.cpu().device_id == 0
    assert mx.cpu(3).device_id == 3
    assert mx.gpu().device_type == "gpu" and mx.gpu().device_id == 0
    assert mx.gpu(7).device_id == 7
    assert mx.cpu_pinned(1).device_type == "cpu_pinned"
    assert mx.cpu_shared(2).device_type == "cpu_shared"


def test_context_class_spellings():
    assert mx.Context("cpu", 1) == mx.cpu(1)
    assert mx.Context("gpu") == mx.gpu(0)
    assert mx.Context(mx.gpu(2)) == mx.gpu(2)
    assert mx.context.Context is mx.Context
    assert mx.Context(2, 1) == mx.gpu(1)  # MXNet's integer device-type codes
    assert mx.cpu(1).device_typeid == 1 and mx.gpu(0).device_typeid == 2


def test_device_aliases_of_mxnet_2():
    assert mx.Device is mx.Context
    assert mx.device is mx.context
    assert mx.current_device() == mx.current_context()
    assert mx.context.current_device is mx.context.current_context


def test_kind_groups_host_contexts():
    assert mx.cpu(1).kind == "cpu"
    assert mx.cpu_pinned(0).kind == "cpu"
    assert mx.cpu_shared(0).kind == "cpu"
    assert mx.gpu(3).kind == "gpu"


# ----------------------------------------------------------------------------- value semantics
def test_equality_and_hash_by_value():
    assert mx.cpu() == mx.cpu(0)
    assert mx.cpu(1) == mx.Context("cpu", 1)
    assert mx.cpu(0) != mx.cpu(1)
    assert mx.cpu(0) != mx.gpu(0)
    assert mx.cpu(0) != mx.cpu_pinned(0)
    assert mx.cpu(0) != "cpu(0)"
    assert hash(mx.cpu(1)) == hash(mx.Context("cpu", 1))
    table = {mx.cpu(0): "a", mx.cpu(1): "b", mx.gpu(0): "c"}
    assert table[mx.Context("cpu", 1)] == "b"
    assert table[mx.gpu()] == "c"
    assert len({mx.cpu(), mx.cpu(0), mx.Context("cpu", 0)}) == 1


def test_repr_and_str():
    assert repr(mx.cpu(1)) == "cpu(1)"
    assert str(mx.cpu()) == "cpu(0)"
    assert str(mx.gpu(2)) == "gpu(2)"
    assert repr(mx.cpu_pinned(0)) == "cpu_pinned(0)"
    assert f"{mx.gpu(1)}" == "gpu(1)"


def test_immutable():
    ctx = mx.cpu(1)
    for attribute in ("device_id", "device_type", "kind"):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(ctx, attribute, 2)
        with pytest.raises(AttributeError, match="immutable"):
            delattr(ctx, attribute)
    assert ctx == mx.cpu(1) and (ctx.device_type, ctx.device_id, ctx.kind) == ("cpu", 1, "cpu")
    assert hash(ctx) == hash(("cpu", 1))


@pytest.mark.parametrize("ctx", [mx.cpu(0), mx.cpu(5), mx.gpu(3), mx.cpu_shared(1)], ids=str)
def test_pickle_and_copy_round_trip(ctx):
    for clone in (pickle.loads(pickle.dumps(ctx)), copy.copy(ctx), copy.deepcopy(ctx)):
        assert clone == ctx and hash(clone) == hash(ctx) and repr(clone) == repr(ctx)


def test_gpu_context_never_raises_before_allocation():
    # creating, comparing, hashing, printing and pickling gpu(i) is pure bookkeeping
    g = mx.gpu(12)
    assert g == mx.gpu(12) and g != mx.gpu(0)
    assert hash(g) == hash(mx.Context("gpu", 12))
    assert str(g) == "gpu(12)"
    assert pickle.loads(pickle.dumps(g)) == g
    with g:
        assert mx.current_context() == g


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad", [-1, -100])
def test_negative_device_id(bad):
    with pytest.raises(ValueError, match=rf"device_id .*got {bad}"):
        mx.cpu(bad)
    with pytest.raises(ValueError, match="non-negative"):
        mx.gpu(bad)


@pytest.mark.parametrize("bad", [1.5, "1", None, [0]])
def test_non_integer_device_id(bad):
    with pytest.raises(TypeError, match="device_id must be a non-negative int"):
        mx.Context("cpu", bad)


def test_bool_device_id_refused():
    with pytest.raises(TypeError, match=r"device_id .*got True"):
        mx.cpu(True)


@pytest.mark.parametrize("bad", ["tpu", "CPU", "", 9, None])
def test_unknown_device_type(bad):
    with pytest.raises(ValueError, match="device"):
        mx.Context(bad, 0)


def test_as_context_helpers():
    assert as_context(None) == mx.cpu(0)
    assert as_context("cpu(1)") == mx.cpu(1)
    assert as_context("gpu") == mx.gpu(0)
    assert as_context_list([mx.cpu(0), "cpu(1)"]) == [mx.cpu(0), mx.cpu(1)]
    assert as_context_list(mx.cpu(2)) == [mx.cpu(2)]
    with pytest.raises(TypeError, match="got 3"):
        as_context(3)
    with pytest.raises(ValueError, match="at least one"):
        as_context_list([])


# ----------------------------------------------------------------------------- current context
def test_default_is_cpu0():
    assert mx.current_context() == mx.cpu(0)
    assert mx.context.current_context() == mx.cpu(0)


def test_with_nested_and_restored():
    with mx.cpu(1) as c:
        assert c == mx.cpu(1)
        assert mx.current_context() == mx.cpu(1)
        assert mx.nd.zeros((1,)).context == mx.cpu(1)
        with mx.cpu(2):
            assert mx.current_context() == mx.cpu(2)
            with mx.cpu(1):
                assert mx.current_context() == mx.cpu(1)
            assert mx.current_context() == mx.cpu(2)
        assert mx.current_context() == mx.cpu(1)
    assert mx.current_context() == mx.cpu(0)


def test_same_object_reentered():
    ctx = mx.cpu(3)
    with ctx:
        with ctx:
            assert mx.current_context() == ctx
        assert mx.current_context() == ctx
    assert mx.current_context() == mx.cpu(0)


def test_restored_after_exception():
    with pytest.raises(KeyError):
        with mx.cpu(1):
            with mx.cpu(2):
                raise KeyError("boom")
    assert mx.current_context() == mx.cpu(0)


def test_current_context_is_per_thread():
    seen = []

    def worker():
        seen.append(mx.current_context())

    with mx.cpu(4):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen == [mx.cpu(0)]


# ----------------------------------------------------------------------------- GPUs
def test_num_gpus_spellings_agree():
    n = mx.num_gpus()
    assert isinstance(n, int) and n >= 0
    assert mx.context.num_gpus() == n == mx.npx.num_gpus() == _backend.num_gpus()


@pytest.mark.skipif(_backend.num_gpus() > 0, reason="needs a machine without a usable GPU")
def test_first_allocation_on_missing_gpu_raises_with_reason():
    g = mx.gpu(0)
    with pytest.raises(GPUUnavailableError, match=r"gpu\(0\)") as info:
        mx.nd.zeros((2,), ctx=g)
    reason = _backend.cupy_missing_reason()
    if reason is not None:
        assert reason in str(info.value)
    assert isinstance(info.value, MXNetError) and isinstance(info.value, RuntimeError)
    # the same error for every path that allocates
    for make in (
        lambda: mx.nd.ones((2,), ctx=g),
        lambda: mx.nd.array([1.0], ctx=g),
        lambda: mx.nd.random.uniform(shape=(2,), ctx=g),
        lambda: mx.nd.ones((2,)).copyto(g),
        lambda: mx.np.zeros((2,), ctx=g),
    ):
        with pytest.raises(GPUUnavailableError):
            make()


@pytest.mark.skipif(_backend.num_gpus() > 0, reason="needs a machine without a usable GPU")
def test_failed_copy_to_missing_gpu_changes_nothing():
    x = mx.nd.arange(4)
    before, version = x.asnumpy(), x.version
    with pytest.raises(GPUUnavailableError):
        x.as_in_context(mx.gpu(0))
    assert (x.asnumpy() == before).all() and x.version == version and x.context == mx.cpu(0)


@pytest.mark.gpu
def test_gpu_out_of_range_names_the_count():
    n = mx.num_gpus()
    with pytest.raises(GPUUnavailableError, match=f"{n} GPU"):
        mx.nd.zeros((1,), ctx=mx.gpu(n + 3))


@pytest.mark.gpu
def test_with_gpu_allocates_there():
    with mx.gpu(0):
        x = mx.nd.ones((2,))
    assert x.context == mx.gpu(0)
    assert _backend.is_gpu_array(x.handle)


def test_empty_cache_is_a_noop_on_cpu():
    mx.cpu(1).empty_cache()
