"""Description of the machine and the package versions of a run."""

from __future__ import annotations

import os
import platform
import subprocess
import sys


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return platform.processor() or None


def _memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def machine_info() -> dict:
    """Return CPU count, CPU model, memory, platform and Python of this machine."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": _cpu_model(),
        "memory_bytes": _memory_bytes(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "thread_env": {
            k: os.environ[k]
            for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
            if k in os.environ
        },
    }


def _numpy_blas(np) -> str | None:
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:
        return None


def git_commit(repo_dir: str) -> str | None:
    """Return the checked-out commit of ``repo_dir`` (read-only query), if any."""
    try:
        done = subprocess.run(
            ["git", "-C", repo_dir, "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def local_packages(paramlab_module) -> dict:
    """Return versions of the in-process packages (numpy, scipy, cupy, paramlab)."""
    import numpy as np

    versions: dict = {"numpy": np.__version__, "numpy_blas": _numpy_blas(np)}
    for name in ("scipy", "cupy"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        versions[name] = getattr(module, "__version__", "unknown")
    if paramlab_module is not None:
        versions["paramlab"] = getattr(paramlab_module, "__version__", "unknown")
    else:
        versions["paramlab"] = None
    return versions
