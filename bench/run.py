"""Run paramlab's workloads side by side with NumPy, PyTorch and MXNet.

Usage (from the repository root)::

    python bench/run.py [--gpu] [--quick] [--only W1,W4] [--repeat N] [--out DIR]

paramlab runs in this process (``import paramlab as mx``) next to the
hand-written NumPy floor; PyTorch and MXNet run in long-lived worker
subprocesses under the interpreters named by ``PARAMLAB_TORCH_PYTHON`` and
``PARAMLAB_MXNET_PYTHON``.  Timed runs alternate round-robin between all
implementations.  Tables go to stdout, progress to stderr, and the figures to
``bench/results/<UTC timestamp>.json``.  See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone

from harness import cases as catalogue
from harness.machine import git_commit, local_packages, machine_info
from harness.peers import WorkerPeer, make_worker_peer
from harness.protocol import short_error
from harness.report import (
    CaseResult,
    format_case,
    format_summary,
    results_json,
    write_json,
)
from harness.runner import (
    ABSENT,
    PEER,
    SETTLE_SECONDS,
    SKIPPED,
    SUBJECT,
    UNAVAILABLE,
    LocalContender,
    Slot,
    run_case,
)
from harness.timing import PEAK_METHOD, TRACED_METHOD

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)

TIMING_METHOD = (
    "per implementation: setup, one smoke/warm-up run, then N timed runs; the runs "
    "of all implementations alternate round-robin (start rotates each round) with "
    f"{SETTLE_SECONDS} s idle before each run; each run is timed with "
    "time.perf_counter inside the process that executes it, including the "
    "synchronisation that makes its work complete (mx.nd.waitall, device sync); "
    "figures are median, min and max of the N runs; ratio = paramlab median / peer median"
)


def load_average() -> list[float] | None:
    """Return the 1, 5 and 15 minute load averages, if the platform has them."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def log(message: str) -> None:
    """Print a progress line to stderr."""
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="paramlab workloads against NumPy, PyTorch CPU and MXNet 1.9.1.",
    )
    parser.add_argument(
        "--gpu",
        action="store_true",
        help="run the CuPy variants against raw CuPy (and PyTorch CUDA)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="reduced sizes and repeats for smoke tests (not comparable)",
    )
    parser.add_argument(
        "--only", default="", help="comma-separated workloads or cases, e.g. W1,W4 or W10.loop"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="timed runs per implementation (default 7, 5 for long cases)",
    )
    parser.add_argument(
        "--out",
        default=os.path.join(BENCH_DIR, "results"),
        help="folder for the JSON results (default bench/results)",
    )
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def gpu_device_count() -> tuple[int, str]:
    """Return ``(number of CUDA devices seen by CuPy, reason when zero)``."""
    try:
        import cupy
    except ImportError as exc:
        return 0, f"CuPy is not installed ({short_error(exc)})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return 0, f"CuPy finds no usable GPU ({short_error(exc)})"
    return count, "" if count else "CuPy finds no GPU"


def import_paramlab():
    """Import paramlab from the environment or the working tree.

    Returns
    -------
    tuple
        ``(module, "")`` on success, ``(None, reason)`` otherwise.
    """
    try:
        import paramlab
    except ImportError:
        for path in (REPO_DIR, os.path.join(REPO_DIR, "src")):
            if os.path.isdir(path) and path not in sys.path:
                sys.path.append(path)
    else:
        return paramlab, ""
    try:
        import paramlab
    except Exception as exc:
        return None, f"import paramlab failed: {short_error(exc)}"
    return paramlab, ""


def build_local(gpu: bool, paramlab):
    """Return the in-process contenders: the NumPy/CuPy floor and paramlab's bodies."""
    from workloads import gluon, numpy_floor, paramlab_extras

    if gpu:
        import cupy as xp
    else:
        import numpy as xp
    floor = LocalContender("numpy", PEER, numpy_floor.REGISTRY, xp, measure_peak=not gpu)
    registries = {"gluon": gluon.REGISTRY, "extras": paramlab_extras.REGISTRY}
    subjects = {}
    if paramlab is not None:
        for case in catalogue.CASES:
            for subject in case.subjects:
                subjects[(case.case_id, subject.key)] = LocalContender(
                    subject.key,
                    SUBJECT,
                    registries[subject.body],
                    paramlab,
                    body_case={case.case_id: subject.body_case or case.case_id},
                    measure_peak=not gpu,
                )
    return floor, subjects


def case_slots(case, floor, subjects, workers, paramlab_reason, skip_reason):
    """Return the rows of ``case``: peers first (catalogue order), then paramlab."""
    slots = []
    for name in case.peers:
        if name not in catalogue.PEERS:
            continue
        if skip_reason:
            slots.append(Slot(name, PEER, status=SKIPPED, reason=skip_reason))
        elif name == "numpy":
            slots.append(Slot(name, PEER, floor))
        else:
            peer = workers[name]
            if peer.ensure_running() and peer.contender.supports(case.case_id):
                slots.append(Slot(name, PEER, peer.contender))
            else:
                slots.append(Slot(name, PEER, status=ABSENT, reason=peer.reason or "no body"))
    for subject in case.subjects:
        if skip_reason:
            slots.append(Slot(subject.key, SUBJECT, status=SKIPPED, reason=skip_reason))
        elif paramlab_reason:
            slots.append(Slot(subject.key, SUBJECT, status=UNAVAILABLE, reason=paramlab_reason))
        else:
            slots.append(Slot(subject.key, SUBJECT, subjects[(case.case_id, subject.key)]))
    return slots


def row_labels(gpu: bool, workers) -> dict[str, str]:
    """Return display labels of the peer rows."""
    labels = {"numpy": "cupy (floor)" if gpu else "numpy (floor)"}
    for name, peer in workers.items():
        version = peer.info.get("version")
        labels[name] = f"{name} {version}" if version else name
        if name == "torch" and gpu and version:
            labels[name] += " cuda"
    return labels


def start_workers(gpu: bool, log_dir: str) -> dict[str, WorkerPeer]:
    """Start the torch and mxnet workers that are configured (MXNet is CPU-only)."""
    workers = {}
    for name in ("torch", "mxnet"):
        if gpu and name == "mxnet":
            workers[name] = WorkerPeer(
                name, None, os.devnull, reason="MXNet peer is CPU-only; not part of --gpu runs"
            )
        else:
            workers[name] = make_worker_peer(name, "cuda" if gpu else "cpu", log_dir)
    return workers


def quick_banner(sizes: dict) -> str:
    """Return the notice printed (and stored) for ``--quick`` runs."""
    return (
        "QUICK MODE: sizes and repeats reduced for smoke testing "
        f"(n={sizes['n']}, nparams={sizes['nparams']}, steps={sizes['steps']}, "
        f"deep_layers={sizes['deep_layers']}, {catalogue.QUICK_REPEAT} runs); "
        "figures are NOT comparable to full runs."
    )


def print_preamble(args, sizes, labels, workers, paramlab_reason, load_start) -> None:
    """Print the quick-mode notice, who takes part, and a busy-machine warning."""
    if args.quick:
        print(quick_banner(sizes))
    peer_lines = [f"{labels['numpy']}: in-process"]
    for name, peer in workers.items():
        state = "worker running" if peer.contender else f"absent ({peer.reason})"
        peer_lines.append(f"{labels[name]}: {state}")
    print(
        "paramlab: " + (f"not available ({paramlab_reason})" if paramlab_reason else "in-process")
    )
    print("peers: " + "; ".join(peer_lines))
    cpus = os.cpu_count() or 1
    if load_start and load_start[0] > 0.5 * cpus:
        print(
            f"WARNING: machine busy before the run (1-min load {load_start[0]} on {cpus} "
            "CPUs); absolute figures are inflated, ratios less so (runs alternate)"
        )
    print(flush=True)


def run_header(args, when, sizes, paramlab, paramlab_reason, workers, load_start, wall) -> dict:
    """Return the run-level fields of the JSON document."""
    packages = local_packages(paramlab)
    for name, peer in workers.items():
        info = {k: v for k, v in peer.info.items() if k != "cases"}
        packages[name] = info or None
    return {
        "schema": "paramlab-bench/1",
        "date": when.isoformat(timespec="seconds"),
        "command": [os.path.relpath(sys.argv[0], REPO_DIR), *sys.argv[1:]],
        "notice": quick_banner(sizes) if args.quick else None,
        "mode": {
            "quick": args.quick,
            "gpu": args.gpu,
            "repeat_override": args.repeat,
            "settle_s": SETTLE_SECONDS,
        },
        "sizes": sizes,
        "timing_method": TIMING_METHOD,
        "peak_method": PEAK_METHOD,
        "traced_peak_method": TRACED_METHOD,
        "load_average": {"start": load_start, "end": load_average()},
        "machine": machine_info(),
        "packages": packages,
        "git_commit": git_commit(REPO_DIR),
        "peers": {
            "numpy": "in-process",
            **{n: (f"absent: {p.reason}" if p.reason else "worker") for n, p in workers.items()},
        },
        "paramlab": f"not available: {paramlab_reason}" if paramlab_reason else "in-process",
        "wall_s": wall,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the selected workloads and write the report; return the exit status."""
    args = parse_args(argv)
    started = time.perf_counter()
    load_start = load_average()
    when = datetime.now(timezone.utc)
    try:
        selected = catalogue.select(args.only.split(",") if args.only else None)
    except ValueError as exc:
        print(f"bench/run.py: {exc}", file=sys.stderr)
        return 2

    ngpus = 0
    if args.gpu:
        ngpus, reason = gpu_device_count()
        if not ngpus:
            print(
                f"bench/run.py --gpu: {reason}; the GPU benchmarks need CuPy and a CUDA GPU.",
                file=sys.stderr,
            )
            return 3
        selected = [c for c in selected if c.gpu]

    sizes = dict(catalogue.QUICK_SIZES if args.quick else catalogue.FULL_SIZES)
    params = dict(sizes, device="gpu" if args.gpu else "cpu")
    paramlab, paramlab_reason = import_paramlab()
    floor, subjects = build_local(args.gpu, paramlab)
    log_dir = tempfile.mkdtemp(prefix="plbench-logs-")
    workers = start_workers(args.gpu, log_dir)
    labels = row_labels(args.gpu, workers)
    print_preamble(args, sizes, labels, workers, paramlab_reason, load_start)

    results = []
    try:
        for index, case in enumerate(selected, 1):
            skip = ""
            if args.gpu and case.multi_context and ngpus < sizes["ncontexts"]:
                skip = f"needs {sizes['ncontexts']} GPUs, found {ngpus}"
            repeat = case.repeat(args.quick, args.repeat)
            log(f"[{index}/{len(selected)}] {case.case_id}: {case.describe(sizes)}")
            case_start = time.perf_counter()
            slots = case_slots(case, floor, subjects, workers, paramlab_reason, skip)
            outcomes = run_case(case, slots, params, repeat, log)
            log(f"  {case.case_id} done in {time.perf_counter() - case_start:.1f} s")
            result = CaseResult(case, case.describe(sizes), repeat, outcomes)
            results.append(result)
            print(format_case(result, labels))
            print(flush=True)
    finally:
        for peer in workers.values():
            peer.stop()
        shutil.rmtree(log_dir, ignore_errors=True)

    wall = time.perf_counter() - started
    print(format_summary(results, labels))
    print(
        f"\nwall time {wall:.1f} s; load average at start {load_start}, end {load_average()}"
        + ("  [QUICK MODE]" if args.quick else "")
    )
    header = run_header(args, when, sizes, paramlab, paramlab_reason, workers, load_start, wall)
    suffix = ("-quick" if args.quick else "") + ("-gpu" if args.gpu else "")
    path = write_json(results_json(results, labels, header), args.out, when, suffix)
    shown = os.path.relpath(path) if path.startswith(os.getcwd() + os.sep) else path
    print(f"results written to {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
