"""Seeded random streams, one per context, with a fixed layout.

``mx.random.seed(s)`` fixes every stream. For a given seed the numbers drawn on
any context of one device type are identical (``cpu(0)`` and ``cpu(1)`` give the
same first draw), and they do not depend on the number of threads: each CPU
context owns :data:`SUBSTREAMS` generators spawned from the seed, a large draw is
cut into that many equal contiguous pieces, piece *i* always comes from
sub-stream *i*, and threads only decide *when* a piece is drawn, never *what*.
Draws smaller than :data:`SPLIT_MIN` elements come from sub-stream 0 alone.
CPU and GPU streams differ (the GPU uses CuPy's generator); without a call to
:func:`seed` the streams start from the fixed seed :data:`DEFAULT_SEED`, so a fresh
process is reproducible, as in MXNet.

>>> import paramlab as mx
>>> mx.random.seed(7)
>>> a = mx.nd.random.uniform(shape=(3,), ctx=mx.cpu(0))
>>> mx.random.seed(7)
>>> b = mx.nd.random.uniform(shape=(3,), ctx=mx.cpu(1))
>>> (a.asnumpy() == b.asnumpy()).all()
np.True_
"""

from __future__ import annotations

import concurrent.futures
import itertools
import operator
import os
import threading

import numpy as np

from . import _backend
from .context import Context, current_context

__all__ = ["seed", "uniform", "normal", "randint", "SUBSTREAMS", "SPLIT_MIN", "DEFAULT_SEED"]

SUBSTREAMS = 8
"""Number of sub-streams per CPU context (part of the stream layout: never changes)."""

SPLIT_MIN = 1 << 16
"""Draws with at least this many elements are split over the sub-streams."""

BLOCK = 1 << 16
"""Elements drawn and transformed at a time inside one piece (cache-sized)."""

DEFAULT_SEED = 0

_KIND_CODE = {"cpu": 0, "gpu": 1}
_lock = threading.Lock()
_root_entropy: int = DEFAULT_SEED
_context_entropy: dict[Context, int] = {}
_streams: dict[Context, list] = {}
_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _threads() -> int:
    return max(1, min(SUBSTREAMS, os.cpu_count() or 1))


def _executor():
    global _pool
    if _pool is None:
        _pool = concurrent.futures.ThreadPoolExecutor(_threads(), thread_name_prefix="paramlab-rng")
    return _pool


def seed(seed_state, ctx="all"):
    """Seed the random streams.

    Parameters
    ----------
    seed_state : int
        A non-negative integer.
    ctx : Context or 'all', default 'all'
        Seed only this context's stream, or every stream.
    """
    try:
        value = operator.index(seed_state)
    except TypeError:
        raise TypeError(f"random.seed: seed_state must be an int, got {seed_state!r}") from None
    if value < 0:
        raise ValueError(f"random.seed: seed_state must be non-negative, got {value!r}")
    global _root_entropy
    with _lock:
        if isinstance(ctx, str) and ctx == "all":
            _root_entropy = value
            _context_entropy.clear()
            _streams.clear()
        elif isinstance(ctx, Context):
            _context_entropy[ctx] = value
            _streams.pop(ctx, None)
        else:
            raise TypeError(f"random.seed: ctx must be a Context or 'all', got {ctx!r}")


def _generators(ctx: Context) -> list:
    """The generators of ``ctx`` (created on first use from the current seed)."""
    gens = _streams.get(ctx)
    if gens is None:
        with _lock:
            gens = _streams.get(ctx)
            if gens is None:
                entropy = _context_entropy.get(ctx, _root_entropy)
                count = 1 if ctx.kind == "gpu" else SUBSTREAMS
                gens = [
                    _backend.new_generator(
                        ctx, np.random.SeedSequence(entropy, spawn_key=(_KIND_CODE[ctx.kind], i))
                    )
                    for i in range(count)
                ]
                _streams[ctx] = gens
    return gens


def _check_float(out, what):
    if out.dtype.kind != "f":
        raise TypeError(
            f"{what}: random draws need a floating-point dtype (float16, float32, float64), "
            f"got {out.dtype}"
        )


def _pieces(n: int) -> list[tuple[int, int]]:
    if n < SPLIT_MIN:
        return [(0, n)]
    bounds = [n * i // SUBSTREAMS for i in range(SUBSTREAMS + 1)]
    return list(itertools.pairwise(bounds))


def _fill_cpu(ctx, out, draw):
    """Fill the contiguous NumPy array ``out`` piece by piece, ``draw(gen, block)``."""
    flat = out.reshape(-1)
    gens = _generators(ctx)
    if flat.size <= BLOCK:  # small draws: one block from sub-stream 0, no bookkeeping
        draw(gens[0], flat)
        return

    def run(i, start, stop):
        gen = gens[i]
        for b in range(start, stop, BLOCK):
            draw(gen, flat[b : min(b + BLOCK, stop)])

    pieces = _pieces(flat.size)
    if len(pieces) == 1 or _threads() == 1:
        for i, (start, stop) in enumerate(pieces):
            run(i, start, stop)
        return
    futures = [_executor().submit(run, i, s, e) for i, (s, e) in enumerate(pieces)]
    for f in futures:
        f.result()


def _fill(ctx, out, cpu_draw, gpu_draw):
    if ctx.kind == "gpu":
        with _backend.device_scope(ctx):
            gpu_draw(_generators(ctx)[0], out)
        return
    if out.flags.c_contiguous:
        _fill_cpu(ctx, out, cpu_draw)
    else:
        tmp = np.empty(out.shape, out.dtype)
        _fill_cpu(ctx, tmp, cpu_draw)
        out[...] = tmp


_NATIVE_CHARS = ("f", "d")  # the dtype.char of float32 and float64


def _native(dtype):
    """NumPy's generators draw float32/float64 natively; float16 goes through float32."""
    return dtype if dtype.char in _NATIVE_CHARS else np.dtype(np.float32)


def _one_block(out, ctx) -> bool:
    """Whether ``out`` is drawn as a single block from sub-stream 0 of CPU context ``ctx``.

    True for small (at most :data:`BLOCK` elements), C-contiguous float32/float64 host
    arrays: the block is ``out`` itself, exactly as :func:`_fill_cpu` would draw it, so
    the small-draw fast paths below give the same numbers without the per-piece machinery.
    """
    return (
        out.size <= BLOCK
        and ctx.kind == "cpu"
        and out.dtype.char in _NATIVE_CHARS
        and out.flags.c_contiguous
    )


def _uniform_native(gen, block, width, low):
    gen.random(out=block, dtype=block.dtype)
    if width != 1.0:
        block *= width
    if low != 0.0:
        block += low


def _normal_native(gen, block, scale, loc):
    gen.standard_normal(out=block, dtype=block.dtype)
    if scale != 1.0:
        block *= scale
    if loc != 0.0:
        block += loc


def fill_uniform(out, low=0.0, high=1.0, ctx: Context | None = None):
    """Fill the raw float array ``out`` (on ``ctx``) with U[low, high) in place."""
    _check_float(out, "uniform")
    return _fill_uniform(out, low, high, current_context() if ctx is None else ctx)


def _fill_uniform(out, low, high, ctx: Context):
    """:func:`fill_uniform` of an array whose float dtype the caller has checked."""
    width = high - low
    if _one_block(out, ctx):
        _uniform_native(_generators(ctx)[0], out, width, low)
        return out

    def cpu_draw(gen, block):
        if block.dtype.char in _NATIVE_CHARS:
            _uniform_native(gen, block, width, low)
        else:
            block[...] = gen.random(block.size, dtype=np.float32) * width + low

    def gpu_draw(gen, arr):
        native = _native(arr.dtype)
        tmp = gen.random(arr.shape, dtype=native)
        tmp *= width
        tmp += low
        arr[...] = tmp

    _fill(ctx, out, cpu_draw, gpu_draw)
    return out


def fill_normal(out, loc=0.0, scale=1.0, ctx: Context | None = None):
    """Fill the raw float array ``out`` (on ``ctx``) with N(loc, scale²) in place."""
    _check_float(out, "normal")
    return _fill_normal(out, loc, scale, current_context() if ctx is None else ctx)


def _fill_normal(out, loc, scale, ctx: Context):
    """:func:`fill_normal` of an array whose float dtype the caller has checked."""
    if _one_block(out, ctx):
        _normal_native(_generators(ctx)[0], out, scale, loc)
        return out

    def cpu_draw(gen, block):
        if block.dtype.char in _NATIVE_CHARS:
            _normal_native(gen, block, scale, loc)
        else:
            block[...] = gen.standard_normal(block.size, dtype=np.float32) * scale + loc

    def gpu_draw(gen, arr):
        tmp = gen.standard_normal(arr.shape, dtype=_native(arr.dtype))
        tmp *= scale
        tmp += loc
        arr[...] = tmp

    _fill(ctx, out, cpu_draw, gpu_draw)
    return out


def draw_integers(shape, low, high, dtype, ctx: Context | None = None):
    """A raw array of integers drawn uniformly from [low, high) on ``ctx``."""
    ctx = current_context() if ctx is None else ctx
    if high <= low:
        raise ValueError(f"randint: high must be greater than low, got low={low!r}, high={high!r}")
    gen = _generators(ctx)[0]
    if ctx.kind == "gpu":
        with _backend.device_scope(ctx):
            return gen.integers(low, high, size=shape, dtype=dtype)
    return gen.integers(low, high, size=shape, dtype=dtype)


def draw_permutation(n, ctx: Context | None = None):
    """A host permutation of ``range(n)`` from ``ctx``'s first sub-stream."""
    ctx = current_context() if ctx is None else ctx
    if ctx.kind == "gpu":
        ctx = Context("cpu", 0)
    return _generators(ctx)[0].permutation(n)


def uniform(low=0.0, high=1.0, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """``mx.random.uniform``: the same as ``mx.nd.random.uniform``."""
    from .ndarray import random as _ndrandom

    return _ndrandom.uniform(low, high, shape=shape, dtype=dtype, ctx=ctx, out=out, **kwargs)


def normal(loc=0.0, scale=1.0, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """``mx.random.normal``: the same as ``mx.nd.random.normal``."""
    from .ndarray import random as _ndrandom

    return _ndrandom.normal(loc, scale, shape=shape, dtype=dtype, ctx=ctx, out=out, **kwargs)


def randint(low, high, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """``mx.random.randint``: the same as ``mx.nd.random.randint``."""
    from .ndarray import random as _ndrandom

    return _ndrandom.randint(low, high, shape=shape, dtype=dtype, ctx=ctx, out=out, **kwargs)
