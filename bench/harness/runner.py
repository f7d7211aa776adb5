"""Contenders and the round-robin runner.

A *contender* is one row of a case's table: a paramlab subject or a peer.
In-process contenders (paramlab, the NumPy floor) call their bodies directly;
worker contenders (torch, mxnet) forward the same calls to a long-lived
worker subprocess.  Every contender times its own runs with
:func:`harness.timing.time_once`, so inter-process messaging is never
included in a figure.

For each case the runner sets every contender up and runs it once as a
smoke test and warm-up, then performs ``repeat`` rounds; in each round every
contender does one timed run, and the starting contender rotates from round
to round so no implementation always follows the same neighbour.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workloads.base import Registry

from harness.cases import Case
from harness.protocol import WorkerClient, WorkerError, short_error
from harness.timing import Stats, peak_bytes, time_once, traced_peak_bytes

#: Seconds of idle time before each timed run, so that BLAS/OpenMP threads of
#: the previous implementation (which spin for a while after their work) have
#: gone to sleep and do not steal cores from the next one.
SETTLE_SECONDS = 0.1

#: A contender whose warm-up run takes longer than this is not timed (the
#: table says so), so that one very slow implementation cannot stall the run.
MAX_WARMUP_SECONDS = 300.0

SUBJECT, PEER = "subject", "peer"

OK = "ok"
ABSENT = "absent"  # peer interpreter not configured or not startable
UNAVAILABLE = "unavailable"  # paramlab capability not there yet
FAILED = "failed"  # a peer raised an error
SKIPPED = "skipped"  # the case cannot run on this machine (said why)


@dataclass
class Outcome:
    """Result of one contender on one case.

    Attributes
    ----------
    key : str
        Row name (``"numpy"``, ``"paramlab"``...).
    role : str
        ``"subject"`` (paramlab) or ``"peer"``.
    status : str
        One of ``ok``, ``absent``, ``unavailable``, ``failed``, ``skipped``.
    reason : str
        Why the status is not ``ok`` (empty otherwise).
    times : list of float
        Seconds of the timed runs.
    peak : int or None
        Extra peak resident bytes of one run, when measured.
    traced_peak : int or None
        ``tracemalloc`` peak bytes of one run (in-process contenders only).
    """

    key: str
    role: str
    status: str = OK
    reason: str = ""
    times: list[float] = field(default_factory=list)
    peak: int | None = None
    traced_peak: int | None = None

    @property
    def stats(self) -> Stats | None:
        """Timing summary, or ``None`` when there are no timed runs."""
        return Stats(self.times) if self.status == OK and self.times else None


class Contender:
    """Interface of one implementation taking part in a case."""

    key: str
    role: str

    def supports(self, case_id: str) -> bool:
        """Return whether this contender has a body for ``case_id``."""
        raise NotImplementedError

    def setup(self, case_id: str, params: dict) -> None:
        """Prepare ``case_id`` (allocations, models, data)."""
        raise NotImplementedError

    def run(self, case_id: str) -> float:
        """Do one timed run and return its seconds."""
        raise NotImplementedError

    def peak(self, case_id: str) -> tuple[int | None, int | None]:
        """Measure one run; return ``(extra peak RSS bytes, tracemalloc peak bytes)``."""
        raise NotImplementedError

    def teardown(self, case_id: str) -> None:
        """Release what ``setup`` allocated."""
        raise NotImplementedError


class LocalContender(Contender):
    """A contender running its bodies in the harness process.

    Parameters
    ----------
    key, role : str
        Row name and role.
    registry : Registry
        Bodies to run.
    env : object
        Environment handed to the bodies (``mx`` module, ``numpy``/``cupy``).
    body_case : dict, optional
        Maps a case id to the registry's case id when they differ.
    measure_peak : bool
        Whether :meth:`peak` measures memory (False on GPU).
    """

    def __init__(self, key, role, registry: Registry, env: Any, body_case=None, measure_peak=True):
        self.key, self.role = key, role
        self.registry, self.env = registry, env
        self.body_case = body_case or {}
        self.measure_peak = measure_peak
        self._prepared: dict[str, Any] = {}

    def supports(self, case_id):
        return self.registry.has(self.body_case.get(case_id, case_id))

    def setup(self, case_id, params):
        body = self.body_case.get(case_id, case_id)
        self._prepared[case_id] = self.registry.setup(body, self.env, params)

    def run(self, case_id):
        return time_once(self._prepared[case_id].run)

    def peak(self, case_id):
        if not self.measure_peak:
            return None, None
        run = self._prepared[case_id].run
        gc.collect()
        rss = peak_bytes(run)
        gc.collect()
        return rss, traced_peak_bytes(run)

    def teardown(self, case_id):
        prepared = self._prepared.pop(case_id, None)
        if prepared is not None:
            prepared.close()
        gc.collect()


class WorkerContender(Contender):
    """A contender whose bodies run in a worker subprocess.

    Parameters
    ----------
    key : str
        Peer name.
    client : WorkerClient
        The started worker.
    cases : list of str
        Case ids the worker reported in its ``info`` reply.
    measure_peak : bool
        Whether :meth:`peak` measures memory (False on GPU).
    """

    def __init__(self, key: str, client: WorkerClient, cases: list[str], measure_peak=True):
        self.key, self.role = key, PEER
        self.client = client
        self.cases = set(cases)
        self.measure_peak = measure_peak

    def supports(self, case_id):
        return case_id in self.cases

    def setup(self, case_id, params):
        self.client.request("setup", case=case_id, params=params)

    def run(self, case_id):
        return float(self.client.request("run", case=case_id)["seconds"])

    def peak(self, case_id):
        if not self.measure_peak:
            return None, None
        return self.client.request("peak", case=case_id)["bytes"], None

    def teardown(self, case_id):
        if self.client.alive():
            self.client.request("teardown", case=case_id)


@dataclass
class Slot:
    """A row of a case: either a live contender or a fixed status with reason."""

    key: str
    role: str
    contender: Contender | None = None
    status: str = OK
    reason: str = ""


def _fail_status(role: str) -> str:
    return UNAVAILABLE if role == SUBJECT else FAILED


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, WorkerError) else short_error(exc)


def run_case(
    case: Case,
    slots: list[Slot],
    params: dict,
    repeat: int,
    log: Callable[[str], None] = lambda _msg: None,
) -> list[Outcome]:
    """Measure one case with every live contender, round-robin.

    Parameters
    ----------
    case : Case
        The case to measure.
    slots : list of Slot
        Rows of the case; slots without a contender keep their given status.
    params : dict
        Size parameters handed to every setup.
    repeat : int
        Number of timed rounds.
    log : callable
        Receives progress lines.

    Returns
    -------
    list of Outcome
        One per slot, in slot order.
    """
    outcomes = {s.key: Outcome(s.key, s.role, s.status, s.reason) for s in slots}
    live = [
        s for s in slots if s.contender is not None and _prepare(case, s, outcomes, params, log)
    ]
    _timed_rounds(case, live, outcomes, repeat, log)
    for slot in live:
        outcome = outcomes[slot.key]
        if outcome.status == OK:
            try:
                outcome.peak, outcome.traced_peak = slot.contender.peak(case.case_id)
            except Exception as exc:
                log(f"  {slot.key}: peak memory not measured: {_error_text(exc)}")
        _safe_teardown(slot.contender, case.case_id)
    return [outcomes[s.key] for s in slots]


def _prepare(
    case: Case, slot: Slot, outcomes: dict[str, Outcome], params: dict, log: Callable[[str], None]
) -> bool:
    """Set up and smoke-run one contender; on failure record why and return False."""
    outcome = outcomes[slot.key]
    try:
        slot.contender.setup(case.case_id, params)
        warmup = slot.contender.run(case.case_id)  # smoke run, doubles as warm-up
        if warmup > MAX_WARMUP_SECONDS:
            raise TimeoutError(
                f"warm-up run took {warmup:.0f} s (> {MAX_WARMUP_SECONDS:.0f} s); not timed"
            )
    except Exception as exc:
        outcome.status, outcome.reason = _fail_status(slot.role), _error_text(exc)
        log(f"  {slot.key}: {outcome.status}: {outcome.reason}")
        _safe_teardown(slot.contender, case.case_id)
        return False
    return True


def _timed_rounds(
    case: Case,
    live: list[Slot],
    outcomes: dict[str, Outcome],
    repeat: int,
    log: Callable[[str], None],
) -> None:
    """Do ``repeat`` rounds of one timed run per live contender, rotating the start."""
    start = time.perf_counter()
    for round_no in range(repeat):
        shift = round_no % len(live) if live else 0
        for slot in live[shift:] + live[:shift]:
            outcome = outcomes[slot.key]
            if outcome.status != OK:
                continue
            time.sleep(SETTLE_SECONDS)
            try:
                outcome.times.append(slot.contender.run(case.case_id))
            except Exception as exc:
                outcome.status, outcome.reason = _fail_status(slot.role), _error_text(exc)
                log(f"  {slot.key}: {outcome.status} during timing: {outcome.reason}")
        log(f"  round {round_no + 1}/{repeat} done ({time.perf_counter() - start:.1f} s)")


def _safe_teardown(contender: Contender, case_id: str) -> None:
    try:
        contender.teardown(case_id)
    except Exception as exc:
        print(f"  teardown of {contender.key} on {case_id} failed: {exc}", file=sys.stderr)
