"""Catalogue of benchmark cases and their sizes.

A *workload* (``W1`` ... ``W11``) is what the issue names; a *case* is one
timed figure of a workload (``W1.uniform`` and ``W1.gaussian`` are two cases
of ``W1``).  Each case lists its *subjects* (paramlab rows, whose figures are
divided by the peers' figures) and the *peers* it is measured against.

Standard library only: imported by the harness and by every worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Peer names, in the order they appear in tables.
PEERS = ("numpy", "torch", "mxnet")

#: Sizes exactly as the issue names them.
FULL_SIZES = {
    "n": 4096,  # W1, W2, W6, W7, W10 square parameter
    "ncontexts": 4,  # W2, W6, W10 number of contexts
    "nparams": 2000,  # W3, W5 number of small parameters
    "small": 64,  # W3, W5 small parameter side
    "mlp": [784, 1024, 1024, 10],  # W4, W8, W9, W10 MLP layer widths
    "batch": 256,  # W4, W8, W10 batch size
    "lr": 0.1,  # SGD learning rate
    "accum": 8,  # W8 accumulating backward passes
    "steps": 200,  # W10 training-loop length
    "bins": 64,  # W7 histogram bins
    "deep_layers": 30,  # W11 depth
    "deep_width": 512,  # W11 width
    "deep_batch": 1000,  # W11 batch size
}

#: Reduced sizes for ``--quick`` smoke runs (figures are not comparable).
QUICK_SIZES = dict(
    FULL_SIZES,
    n=1024,
    nparams=200,
    steps=10,
    deep_layers=6,
    deep_batch=250,
)

#: Timed runs per case (after one warm-up run) when ``--repeat`` is not given.
DEFAULT_REPEAT = 7
#: Cases whose single run takes seconds use fewer runs (still at least 5).
LONG_CASE_REPEAT = 5
#: Timed runs per case in ``--quick`` mode.
QUICK_REPEAT = 3


@dataclass(frozen=True)
class Subject:
    """One paramlab row of a case.

    Parameters
    ----------
    key : str
        Row name in tables and JSON, e.g. ``"paramlab"``.
    body : str
        ``"gluon"`` to run the shared Gluon-API body (the same code the MXNet
        worker runs) or ``"extras"`` for a paramlab-only body
        (``workloads/paramlab_extras.py``).
    body_case : str, optional
        Case id of the body when it differs from the case id.
    """

    key: str
    body: str
    body_case: str | None = None


@dataclass(frozen=True)
class Case:
    """One timed figure of a workload.

    Parameters
    ----------
    case_id : str
        Unique id, ``W<k>`` or ``W<k>.<variant>``.
    title : str
        Human-readable description; ``{name}`` fields are filled from sizes.
    subjects : tuple of Subject
        paramlab rows.
    peers : tuple of str
        Peer names (subset of :data:`PEERS`) measured for this case.
    long : bool
        Whether one run takes seconds (fewer default repeats).
    gpu : bool
        Whether the case is part of ``--gpu`` runs.
    multi_context : bool
        Whether the case places data on ``ncontexts`` devices (on GPU it then
        needs that many GPUs).
    notes : tuple of str
        Lines printed under the case title.
    """

    case_id: str
    title: str
    subjects: tuple[Subject, ...] = (Subject("paramlab", "gluon"),)
    peers: tuple[str, ...] = PEERS
    long: bool = False
    gpu: bool = True
    multi_context: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def workload(self) -> str:
        """Return the workload id (``"W4"`` for ``"W4"``, ``"W1"`` for ``"W1.uniform"``)."""
        return self.case_id.split(".", 1)[0]

    def describe(self, sizes: dict) -> str:
        """Return the title with the size fields filled in."""
        return self.title.format(**sizes)

    def repeat(self, quick: bool, override: int | None) -> int:
        """Return the number of timed runs for this case."""
        if override is not None:
            return override
        if quick:
            return QUICK_REPEAT
        return LONG_CASE_REPEAT if self.long else DEFAULT_REPEAT


_MLP = "MLP 784-1024-1024-10 (ReLU, batch {batch}, softmax CE, SGD lr {lr})"

CASES: tuple[Case, ...] = (
    Case(
        "W1.uniform",
        "initialize one {n}x{n} float32 parameter, Xavier uniform (magnitude 3, avg)",
    ),
    Case(
        "W1.gaussian",
        "initialize one {n}x{n} float32 parameter, Xavier gaussian (magnitude 3, avg)",
    ),
    Case(
        "W2",
        "initialize one {n}x{n} float32 parameter on {ncontexts} contexts, Xavier uniform",
        multi_context=True,
        notes=("numpy/torch floor: one draw + copies",),
    ),
    Case("W3", "create and initialize {nparams} parameters of {small}x{small} (Xavier uniform)"),
    Case("W4", "one training step (forward + backward + SGD update) of an " + _MLP),
    Case("W5", "zero_grad of {nparams} parameters of {small}x{small}"),
    Case(
        "W6",
        "set_data of a {n}x{n} float32 array onto {ncontexts} contexts",
        multi_context=True,
    ),
    Case(
        "W7",
        "mean/std/min/max/norm/finite-count + {bins}-bin histogram of a {n}x{n} float32 array",
        subjects=(Subject("paramlab:summary", "extras"),),
        notes=("paramlab: paramlab.summary.summarize (the module the views and inspect use)",),
    ),
    Case("W8", "{accum} accumulating backward passes (grad_req 'add') of the W4 MLP"),
    Case("W9", "save (with fsync) and load the parameters of the W4 MLP"),
    Case(
        "W10.view_update",
        "one ParameterView update of a {n}x{n} parameter on {ncontexts} contexts",
        subjects=(Subject("paramlab:ParameterView", "extras"),),
        peers=("numpy",),
        multi_context=True,
        notes=(
            "no peer has a parameter view; numpy floor: one read pass (max) over each "
            "replica, the memory traffic the update may cost on top of its 10 ms budget",
        ),
    ),
    Case(
        "W10.loop",
        "{steps}-step training loop of the W4 " + _MLP,
        subjects=(
            Subject("paramlab", "gluon"),
            Subject("paramlab+ModelView", "extras"),
        ),
        peers=("numpy", "torch"),
        long=True,
        notes=("peers run the loop without a view",),
    ),
    Case(
        "W11",
        "initialization report vs one forward+backward of a {deep_layers}-layer "
        "width-{deep_width} ReLU MLP (batch {deep_batch})",
        subjects=(
            Subject("paramlab:init_report", "extras"),
            Subject("paramlab:fwd+bwd", "gluon"),
        ),
        notes=("peers run one plain forward+backward",),
    ),
)


def workload_ids() -> list[str]:
    """Return the workload ids in catalogue order, without duplicates."""
    seen: list[str] = []
    for case in CASES:
        if case.workload not in seen:
            seen.append(case.workload)
    return seen


def select(only: list[str] | None) -> list[Case]:
    """Return the cases of the workloads named in ``only`` (all when ``None``).

    Parameters
    ----------
    only : list of str or None
        Workload ids (``"W4"``) or case ids (``"W1.uniform"``), any case.

    Raises
    ------
    ValueError
        If a name matches no case.
    """
    if not only:
        return list(CASES)
    wanted = [name.strip().upper() for name in only if name.strip()]
    chosen = []
    for name in wanted:
        matches = [c for c in CASES if name in (c.workload.upper(), c.case_id.upper())]
        if not matches:
            known = ", ".join(workload_ids())
            raise ValueError(f"unknown workload {name!r} (known: {known})")
        chosen.extend(c for c in matches if c not in chosen)
    return [c for c in CASES if c in chosen]
