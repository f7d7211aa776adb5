"""The one door to the array libraries: NumPy for CPU contexts, CuPy for GPUs.

This is the only module that imports CuPy. It remembers why the import failed,
hands out the array module (``xp``) for a device type, moves arrays between
contexts and to the host, makes random generators, and picks the sparse module.

Every copy between contexts and every host materialisation is counted in
:data:`transfers`, so a test on a CPU-only machine can prove that a piece of
code never copies a whole tensor::

    with counting() as moved:
        view.update()
    assert moved.host_reads == 0

Functions take context-like objects (anything with ``device_type`` and
``device_id``) so that this module does not depend on :mod:`paramlab.context`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading

import numpy as np

__all__ = [
    "cupy_available",
    "cupy_missing_reason",
    "check_device",
    "num_gpus",
    "xp_for",
    "xp_of",
    "is_gpu_array",
    "device_scope",
    "to_context",
    "copy_to_context",
    "to_host",
    "from_dlpack",
    "copy_into",
    "new_generator",
    "sparse_module",
    "special_module",
    "transfers",
    "counting",
]

try:  # pragma: no cover - depends on the machine
    import cupy as _cupy
    import cupyx.scipy.sparse as _cupy_sparse

    _CUPY_ERROR: str | None = None
except Exception as exc:  # ImportError, or a CUDA library that fails to load
    _cupy = None
    _cupy_sparse = None
    _CUPY_ERROR = f"CuPy could not be imported ({type(exc).__name__}: {exc})"


def cupy_available() -> bool:
    """Whether CuPy imported; says nothing about how many GPUs there are."""
    return _cupy is not None


def cupy_missing_reason() -> str | None:
    """Why CuPy is unusable, or None when it imported."""
    return _CUPY_ERROR


def num_gpus() -> int:
    """The number of GPUs CuPy can see (0 without CuPy or without a driver)."""
    if _cupy is None:
        return 0
    try:
        return int(_cupy.cuda.runtime.getDeviceCount())
    except Exception:  # no driver, no device
        return 0


def _is_gpu(ctx) -> bool:
    return ctx.device_type == "gpu"


def check_device(ctx) -> None:
    """Raise :class:`~paramlab.base.GPUUnavailableError` if ``ctx`` cannot hold arrays."""
    if ctx.device_type != "gpu":  # host contexts always can (asked once per replica made)
        return
    from .base import GPUUnavailableError

    if _cupy is None:
        raise GPUUnavailableError(
            f"cannot allocate on {ctx}: {_CUPY_ERROR}. Install paramlab[gpu] on a machine "
            "with an NVIDIA GPU, or use a cpu(i) context."
        )
    count = num_gpus()
    if ctx.device_id >= count:
        raise GPUUnavailableError(
            f"cannot allocate on {ctx}: this machine has {count} GPU(s) "
            f"(valid contexts: {', '.join(f'gpu({i})' for i in range(count)) or 'none'})."
        )


def xp_for(ctx):
    """The array module for a context: NumPy for CPU kinds, CuPy for GPUs."""
    if _is_gpu(ctx):
        check_device(ctx)
        return _cupy
    return np


def xp_of(array):
    """The array module an existing raw array belongs to."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    return np


def is_gpu_array(array) -> bool:
    """Whether ``array`` is a CuPy array."""
    return _cupy is not None and isinstance(array, _cupy.ndarray)


def device_scope(ctx):
    """A context manager making ``ctx``'s GPU current (a no-op for CPU contexts)."""
    if _is_gpu(ctx):
        check_device(ctx)
        return _cupy.cuda.Device(ctx.device_id)
    return contextlib.nullcontext()


# --------------------------------------------------------------------------- transfers
@dataclasses.dataclass
class TransferStats:
    """Bytes moved between contexts and out of them, by kind."""

    host_to_device: int = 0
    device_to_host: int = 0
    device_to_device: int = 0
    cpu_to_cpu: int = 0
    host_reads: int = 0  # host materialisations: asnumpy(), __array__, to_host()

    @property
    def total(self) -> int:
        return (
            self.host_to_device
            + self.device_to_host
            + self.device_to_device
            + self.cpu_to_cpu
            + self.host_reads
        )

    def _add(self, kind: str, nbytes: int) -> None:
        setattr(self, kind, getattr(self, kind) + int(nbytes))


transfers = TransferStats()
"""Process-wide counters; read them through :func:`counting` in tests."""

_open_counters: list[TransferStats] = []
_counter_lock = threading.Lock()


def _record(kind: str, nbytes: int) -> None:
    with _counter_lock:
        transfers._add(kind, nbytes)
        for c in _open_counters:
            c._add(kind, nbytes)


@contextlib.contextmanager
def counting():
    """Count the bytes moved while the block runs; yields a :class:`TransferStats`."""
    stats = TransferStats()
    with _counter_lock:
        _open_counters.append(stats)
    try:
        yield stats
    finally:
        with _counter_lock:
            _open_counters.remove(stats)


def _transfer_kind(src_is_gpu: bool, dst) -> str:
    if _is_gpu(dst):
        return "device_to_device" if src_is_gpu else "host_to_device"
    return "device_to_host" if src_is_gpu else "cpu_to_cpu"


def to_context(array, ctx, dtype=None, copy=False):
    """Return ``array`` (any raw array or array-like) as a raw array on ``ctx``.

    A CPU array headed for a CPU context is not copied unless ``copy`` or a dtype
    conversion requires it; crossing between host and GPU is always a counted copy.
    """
    if _is_gpu(ctx):
        check_device(ctx)
        with _cupy.cuda.Device(ctx.device_id):
            if is_gpu_array(array):
                src_dev = array.device.id
                if (
                    src_dev == ctx.device_id
                    and not copy
                    and (dtype is None or array.dtype == dtype)
                ):
                    return array
                if src_dev != ctx.device_id:
                    _record("device_to_device", array.nbytes)
                out = _cupy.array(array, dtype=dtype, copy=True)
                return out
            host = np.asarray(array, dtype=dtype)
            _record("host_to_device", host.nbytes)
            return _cupy.asarray(host)
    if is_gpu_array(array):
        _record("device_to_host", array.nbytes)
        host = _cupy.asnumpy(array)
        return host.astype(dtype, copy=False) if dtype is not None else host
    return np.array(array, dtype=dtype, copy=True if copy else None)


def copy_to_context(array, src_ctx, dst_ctx):
    """Copy a raw array that lives on ``src_ctx`` into a new array on ``dst_ctx`` (counted)."""
    if _is_gpu(dst_ctx):
        return to_context(array, dst_ctx, copy=True)
    if is_gpu_array(array):
        return to_context(array, dst_ctx)
    _record("cpu_to_cpu", array.nbytes)
    return array.copy()


def copy_into(dst, src, dst_ctx=None, src_ctx=None):
    """Write raw ``src`` into raw ``dst`` in place, moving it across devices if needed."""
    if is_gpu_array(dst):
        with _cupy.cuda.Device(dst.device.id):
            if is_gpu_array(src):
                if src.device.id != dst.device.id:
                    _record("device_to_device", src.nbytes)
                dst[...] = src
            else:
                host = np.asarray(src)
                _record("host_to_device", host.nbytes)
                dst.set(np.ascontiguousarray(np.broadcast_to(host, dst.shape), dtype=dst.dtype))
        return
    if is_gpu_array(src):
        _record("device_to_host", src.nbytes)
        src = _cupy.asnumpy(src)
    elif src_ctx is not None and dst_ctx is not None and src_ctx != dst_ctx:
        _record("cpu_to_cpu", getattr(src, "nbytes", 0))
    np.copyto(dst, src, casting="unsafe")


def from_dlpack(obj):
    """A raw array sharing memory with a DLPack producer (host or GPU, by its device)."""
    device_type, _ = obj.__dlpack_device__()
    if int(device_type) == 1:  # kDLCPU
        return np.from_dlpack(obj)
    if _cupy is None:
        from .base import GPUUnavailableError

        raise GPUUnavailableError(f"from_dlpack: the producer lives on a GPU but {_CUPY_ERROR}")
    return _cupy.from_dlpack(obj)


def to_host(array) -> np.ndarray:
    """Materialise a raw array as a NumPy array (a counted host read)."""
    if is_gpu_array(array):
        _record("device_to_host", array.nbytes)
        return _cupy.asnumpy(array)
    _record("host_reads", array.nbytes)
    return array


# --------------------------------------------------------------------------- random
def new_generator(ctx, seed_sequence: np.random.SeedSequence):
    """A random generator for ``ctx`` seeded from ``seed_sequence``.

    CPU: NumPy's PCG64. GPU: CuPy's generator seeded with 64 bits drawn from the
    same seed sequence (CPU and GPU streams differ, as documented).
    """
    if _is_gpu(ctx):
        check_device(ctx)
        with _cupy.cuda.Device(ctx.device_id):
            seed = int(seed_sequence.generate_state(1, np.uint64)[0])
            return _cupy.random.Generator(_cupy.random.XORWOW(seed))
    return np.random.Generator(np.random.PCG64(seed_sequence))


def special_module(array):
    """``scipy.special`` or ``cupyx.scipy.special``, matching a raw array."""
    if is_gpu_array(array):
        import cupyx.scipy.special

        return cupyx.scipy.special
    import scipy.special

    return scipy.special


# --------------------------------------------------------------------------- sparse
def sparse_module(ctx):
    """``scipy.sparse`` for CPU contexts, ``cupyx.scipy.sparse`` for GPUs."""
    if _is_gpu(ctx):
        check_device(ctx)
        return _cupy_sparse
    import scipy.sparse

    return scipy.sparse
