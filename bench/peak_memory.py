"""Peak memory of one W4 training step: paramlab against PyTorch.

Usage (from the repository root)::

    .venv/bin/python bench/peak_memory.py [--processes 5] [--steps 5] [--json PATH]

The step is the W4 workload of ``bench/run.py``: an MLP 784-1024-1024-10 with
ReLU, a float32 batch of 256, softmax cross-entropy, forward + backward + SGD,
here with learning rate 0.01 (the memory does not depend on it).  Both sides
run the benchmark's own bodies (``workloads.gluon.mlp_trainer`` with ``import
paramlab as mx``, and ``workloads.torch_bodies.mlp_trainer``), so model, data,
loss and optimizer are the same; torch keeps its default thread count, as the
benchmark does.

Each measurement is one fresh process: build the model and the batch, run one
warm-up step (lazy allocations: optimizer scratch, BLAS buffers), reset the
kernel's resident-set high-water mark, read the RSS, run ``--steps`` steps,
and report the high-water mark minus that RSS: the transient memory a step
needs on top of what stays allocated between steps.  ``ru_maxrss`` reads the
same mark; resetting it first (by writing ``5`` to ``/proc/self/clear_refs``,
Linux only, ``harness.timing.peak_bytes``) keeps the peaks of model
construction from hiding a smaller step.

Resident memory is the only figure both sides can be judged by: NumPy's
allocations are invisible to torch's allocator statistics and torch's are
invisible to ``tracemalloc``.  The paramlab side runs under this interpreter,
the torch side under ``$PARAMLAB_TORCH_PYTHON`` (default
``/root/.cache/paramlab/torch-venv/bin/python``); processes of the two sides
alternate so that background load affects both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from harness.timing import peak_bytes

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TORCH_PYTHON = "/root/.cache/paramlab/torch-venv/bin/python"
#: Size parameters of the step (``harness.cases`` spelling), learning rate 0.01.
SIZES = {"mlp": [784, 1024, 1024, 10], "batch": 256, "lr": 0.01, "device": "cpu", "ncontexts": 1}
MIB = 1024 * 1024


# ----------------------------------------------------------------- one process


def paramlab_step():
    """Return a zero-argument W4 step written with ``paramlab.gluon``."""
    from workloads.gluon import mlp_trainer

    import paramlab as mx

    _, step = mlp_trainer(mx, SIZES)
    return step


def torch_step():
    """Return a zero-argument W4 step written with ``torch.nn`` and ``torch.optim``."""
    from workloads.torch_bodies import TorchEnv, mlp_trainer

    _, _, step = mlp_trainer(TorchEnv("cpu"), SIZES)
    return step


def measure(side, steps):
    """Return the peak RSS growth in MiB of ``steps`` warm steps, or None (non-Linux).

    Parameters
    ----------
    side : {"paramlab", "torch"}
    steps : int
        Steps measured after the single warm-up step.
    """
    step = paramlab_step() if side == "paramlab" else torch_step()
    step()

    def run():
        for _ in range(steps):
            step()

    extra = peak_bytes(run)
    return None if extra is None else extra / MIB


# ----------------------------------------------------------------- the driver


def torch_python():
    """Return the torch interpreter, or None (with a message) when it cannot import torch."""
    python = os.environ.get("PARAMLAB_TORCH_PYTHON", DEFAULT_TORCH_PYTHON)
    try:
        found = subprocess.run([python, "-c", "import torch"], capture_output=True).returncode == 0
    except OSError:
        found = False
    if not found:
        print(f"torch skipped: {python!r} cannot import torch (set PARAMLAB_TORCH_PYTHON)")
        return None
    return python


def run_child(python, side, steps):
    """Measure ``side`` once in a fresh ``python`` process; return MiB or None."""
    cmd = [python, os.path.abspath(__file__), "--child", side, "--steps", str(steps)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=BENCH_DIR)
    if done.returncode != 0:
        raise RuntimeError(f"{side} process failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])["peak_mib"]


def summary(values):
    """Return ``{"runs", "median", "min"}`` of MiB figures (None where one is missing)."""
    if None in values:
        return {"runs": values, "median": None, "min": None}
    return {"runs": values, "median": statistics.median(values), "min": min(values)}


def _mib(value):
    return "n/a (needs Linux /proc/self/clear_refs)" if value is None else f"{value:5.1f} MiB"


def main(argv=None):
    """Measure both sides in alternating fresh processes; print (and write) the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=5, help="fresh processes per side")
    parser.add_argument("--steps", type=int, default=5, help="measured steps per process")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH")
    parser.add_argument("--child", choices=("paramlab", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps({"peak_mib": measure(args.child, args.steps)}))
        return
    pythons = {"paramlab": sys.executable, "torch": torch_python()}
    pythons = {side: python for side, python in pythons.items() if python}
    runs = {side: [] for side in pythons}
    for _ in range(args.processes):
        for side, python in pythons.items():
            runs[side].append(run_child(python, side, args.steps))
    result = {"steps": args.steps, "processes": args.processes}
    result.update((side, summary(values)) for side, values in runs.items())
    for side in pythons:
        figures = result[side]
        listed = " ".join("-" if v is None else f"{v:.1f}" for v in figures["runs"])
        print(
            f"{side:9s} median {_mib(figures['median'])}  min {_mib(figures['min'])}  "
            f"runs: {listed}"
        )
    medians = [result.get(side, {}).get("median") for side in ("paramlab", "torch")]
    result["ratio"] = None if None in medians else medians[0] / medians[1]
    if result["ratio"] is not None:
        print(f"ratio paramlab / torch (medians): {result['ratio']:.2f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
