"""Timing and peak-memory measurement of one run.

Standard library only: used in the harness process and in every worker, so
all implementations are timed and measured by the very same code.

Peak memory is the *extra resident memory* one run needs: the kernel's
resident-set high-water mark (``VmHWM``) is reset to the current RSS by
writing ``5`` to ``/proc/self/clear_refs``, the run executes, and the
high-water mark minus the RSS before the run is reported.  Memory that an
allocator keeps cached from earlier runs is reused without raising the RSS,
so the figure is the steady-state transient footprint, not first-run
allocation.  Where the kernel does not offer this (non-Linux), peak is
``None``.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PEAK_METHOD = (
    "peak MiB: extra RSS of one warm run: VmHWM after the run minus VmRSS before it, "
    "with VmHWM reset via /proc/self/clear_refs (Linux); measured once per "
    "implementation after the timed rounds, in the process that runs it "
    "(allocator caches make steady-state figures small; large transients show)"
)
TRACED_METHOD = (
    "alloc MiB: tracemalloc peak of one warm run (Python and NumPy allocations; "
    "in-process implementations only, as torch and mxnet allocate outside tracemalloc)"
)

_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


def time_once(fn: Callable[[], Any]) -> float:
    """Return the wall-clock seconds ``fn()`` takes (``time.perf_counter``)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _status_kib(field: str) -> int | None:
    try:
        with open(_STATUS, encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _reset_high_water_mark() -> bool:
    try:
        with open(_CLEAR_REFS, "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def peak_supported() -> bool:
    """Return whether this process can measure the peak RSS of one run."""
    return _status_kib("VmHWM") is not None and _reset_high_water_mark()


def peak_bytes(fn: Callable[[], Any]) -> int | None:
    """Run ``fn`` once and return its extra peak resident memory in bytes.

    Returns
    -------
    int or None
        ``VmHWM`` after the run minus ``VmRSS`` before it, or ``None`` when the
        platform cannot reset the high-water mark.
    """
    if not _reset_high_water_mark():
        fn()
        return None
    before = _status_kib("VmRSS")
    fn()
    after = _status_kib("VmHWM")
    if before is None or after is None:
        return None
    return max(0, after - before) * 1024


def traced_peak_bytes(fn: Callable[[], Any]) -> int:
    """Run ``fn`` once under ``tracemalloc`` and return its peak traced bytes.

    Only allocations made during the run count (tracing starts just before it),
    so the figure is the largest amount of memory the run held at once.
    """
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@dataclass
class Stats:
    """Summary of the timed runs of one implementation on one case.

    Attributes
    ----------
    times : list of float
        Seconds of each timed run, in order.
    """

    times: list[float]

    @property
    def median(self) -> float:
        """Median of the timed runs, in seconds."""
        return statistics.median(self.times)

    @property
    def minimum(self) -> float:
        """Fastest timed run, in seconds."""
        return min(self.times)

    @property
    def maximum(self) -> float:
        """Slowest timed run, in seconds."""
        return max(self.times)
