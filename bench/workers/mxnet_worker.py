"""MXNet worker: serves the shared Gluon bodies with the real ``mxnet`` package.

Run by the harness as ``$PARAMLAB_MXNET_PYTHON bench/workers/mxnet_worker.py``;
needs only ``mxnet`` (1.9.1) and ``numpy<1.24``.  The bodies in
``workloads/gluon.py`` are the very code paramlab runs in-process.
"""

from __future__ import annotations

import os
import platform

import mxnet as mx
import numpy as np
from harness.protocol import serve
from workloads.gluon import REGISTRY


def main() -> None:
    """Serve requests until told to quit."""

    def info() -> dict:
        features = mx.runtime.Features()
        return {
            "name": "mxnet",
            "version": mx.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "omp_threads": os.environ.get("OMP_NUM_THREADS", "default"),
            "mkldnn": features.is_enabled("MKLDNN"),
            "device": "cpu",
            "cases": REGISTRY.ids(),
        }

    serve(lambda case, params: REGISTRY.setup(case, mx, params), info)


if __name__ == "__main__":
    main()
