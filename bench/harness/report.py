"""Readable tables on stdout and the JSON results file.

Ratios are ``paramlab median / peer median`` for every paramlab row and every
peer measured in the same run: below 1 paramlab is faster than that peer,
above 1 slower (2.0 = twice the peer's time).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime

from harness.cases import Case
from harness.runner import PEER, SUBJECT, Outcome

_STATUS_TEXT = {
    "absent": "absent",
    "unavailable": "not available yet",
    "failed": "failed",
    "skipped": "skipped",
}


@dataclass
class CaseResult:
    """Everything measured for one case."""

    case: Case
    title: str
    repeat: int
    outcomes: list[Outcome]

    def ratios(self) -> dict[str, dict[str, float | None]]:
        """Return ``{subject: {peer: subject median / peer median}}`` (None if missing)."""
        peers = [o for o in self.outcomes if o.role == PEER]
        table: dict[str, dict[str, float | None]] = {}
        for subject in (o for o in self.outcomes if o.role == SUBJECT):
            row: dict[str, float | None] = {}
            for peer in peers:
                if subject.stats and peer.stats and peer.stats.median > 0:
                    row[peer.key] = subject.stats.median / peer.stats.median
                else:
                    row[peer.key] = None
            table[subject.key] = row
        return table


def format_seconds(seconds: float) -> str:
    """Return ``seconds`` with a readable unit (s, ms or us)."""
    if seconds >= 1.0:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def _format_peak(peak: int | None) -> str:
    return "-" if peak is None else f"{peak / 2**20:.1f}"


def status_text(outcome: Outcome) -> str:
    """Return the table text of a row that has no figures."""
    text = _STATUS_TEXT.get(outcome.status, outcome.status)
    return f"{text}: {outcome.reason}" if outcome.reason else text


def format_case(result: CaseResult, labels: dict[str, str]) -> str:
    """Return the table of one case as text.

    Parameters
    ----------
    result : CaseResult
        The case and its outcomes.
    labels : dict
        Display label of each row key (``"torch"`` -> ``"torch 2.13.0"``).
    """
    case = result.case
    lines = [f"{case.case_id}  {result.title}"]
    for note in case.notes:
        lines.append(f"    note: {note}")
    ratios = result.ratios()
    has_peers = any(o.role == PEER for o in result.outcomes)
    subjects = list(ratios) if has_peers else []
    ratio_heads = [f"{s}/peer" for s in subjects]
    width = max([len(labels.get(o.key, o.key)) for o in result.outcomes] + [14])
    head = (
        f"    {'implementation':<{width}} {'median':>11} {'min':>11} {'max':>11} "
        f"{'peak MiB':>9} {'alloc MiB':>10}"
    )
    lines.append(head + "".join(f"  {h:>{max(len(h), 8)}}" for h in ratio_heads))
    for outcome in result.outcomes:
        label = labels.get(outcome.key, outcome.key)
        stats = outcome.stats
        if stats is None:
            lines.append(f"    {label:<{width}} {status_text(outcome)}")
            continue
        row = (
            f"    {label:<{width}} {format_seconds(stats.median):>11} "
            f"{format_seconds(stats.minimum):>11} {format_seconds(stats.maximum):>11} "
            f"{_format_peak(outcome.peak):>9} {_format_peak(outcome.traced_peak):>10}"
        )
        for subject, head_text in zip(subjects, ratio_heads):
            value = ratios[subject].get(outcome.key) if outcome.role == PEER else None
            cell = "-" if outcome.role == SUBJECT else ("n/a" if value is None else f"{value:.2f}")
            row += f"  {cell:>{max(len(head_text), 8)}}"
        lines.append(row)
    lines.append(f"    ({result.repeat} timed runs per implementation after one warm-up)")
    return "\n".join(lines)


def _outcome_json(outcome: Outcome, label: str) -> dict:
    entry = {
        "key": outcome.key,
        "label": label,
        "role": outcome.role,
        "status": outcome.status,
        "reason": outcome.reason or None,
    }
    stats = outcome.stats
    if stats is not None:
        entry.update(
            median_s=stats.median,
            min_s=stats.minimum,
            max_s=stats.maximum,
            runs=len(stats.times),
            times_s=stats.times,
        )
    entry["peak_bytes"] = outcome.peak
    entry["traced_peak_bytes"] = outcome.traced_peak
    if outcome.status == "unavailable":
        entry["reason"] = f"not available yet: {outcome.reason}"
    return entry


def results_json(results: list[CaseResult], labels: dict[str, str], header: dict) -> dict:
    """Return the JSON document of a run.

    Parameters
    ----------
    results : list of CaseResult
        Measured cases.
    labels : dict
        Display labels of the rows.
    header : dict
        Run-level fields (date, machine, packages, mode...), placed first.
    """
    cases = []
    for result in results:
        cases.append(
            {
                "id": result.case.case_id,
                "workload": result.case.workload,
                "title": result.title,
                "notes": list(result.case.notes),
                "repeat": result.repeat,
                "results": [_outcome_json(o, labels.get(o.key, o.key)) for o in result.outcomes],
                "ratios": result.ratios(),
            }
        )
    return dict(header, cases=cases)


def write_json(document: dict, out_dir: str, when: datetime, suffix: str = "") -> str:
    """Write ``document`` to ``<out_dir>/<UTC timestamp><suffix>.json`` and return the path."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, when.strftime("%Y%m%dT%H%M%SZ") + suffix + ".json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(document, fh, indent=1, default=_jsonable)
        fh.write("\n")
    return path


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def format_summary(results: list[CaseResult], labels: dict[str, str]) -> str:
    """Return a compact table of all medians: one line per case, peers then paramlab."""
    peers: list[str] = []
    for result in results:
        for outcome in result.outcomes:
            if outcome.role == PEER and outcome.key not in peers:
                peers.append(outcome.key)
    heads = [labels.get(k, k) for k in peers]
    widths = [max(len(h), 11) for h in heads]
    lines = [
        "Summary of medians",
        "    "
        + f"{'case':<16}"
        + "".join(f"  {h:>{w}}" for h, w in zip(heads, widths))
        + "  paramlab",
    ]
    for result in results:
        by_key = {o.key: o for o in result.outcomes}
        cells = []
        for key, w in zip(peers, widths):
            outcome = by_key.get(key)
            cells.append(f"  {_summary_cell(outcome):>{w}}")
        subjects = [o for o in result.outcomes if o.role == SUBJECT]
        multi = len(subjects) > 1
        mine = [(f"{o.key}=" if multi else "") + _summary_cell(o) for o in subjects]
        lines.append(f"    {result.case.case_id:<16}" + "".join(cells) + "  " + ", ".join(mine))
    return "\n".join(lines)


def _summary_cell(outcome: Outcome | None) -> str:
    if outcome is None:
        return "-"
    if outcome.stats is not None:
        return format_seconds(outcome.stats.median)
    return "n/a" if outcome.status == "unavailable" else outcome.status
