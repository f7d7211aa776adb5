"""PyTorch worker: serves the torch bodies over the JSON-lines protocol.

Run by the harness as ``$PARAMLAB_TORCH_PYTHON bench/workers/torch_worker.py
[--device cpu|cuda]``; needs only ``torch`` and ``numpy``.
"""

from __future__ import annotations

import argparse
import platform

import numpy as np
import torch
from harness.protocol import serve
from workloads.torch_bodies import REGISTRY, TorchEnv


def main(argv: list[str] | None = None) -> None:
    """Parse the device option and serve requests until told to quit."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = parser.parse_args(argv)
    env = TorchEnv(args.device)

    def info() -> dict:
        details = {
            "name": "torch",
            "version": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "threads": torch.get_num_threads(),
            "device": args.device,
            "cuda_available": torch.cuda.is_available(),
            "cases": REGISTRY.ids(),
        }
        if args.device == "cuda":
            details["gpu"] = torch.cuda.get_device_name(0)
        return details

    serve(lambda case, params: REGISTRY.setup(case, env, params), info)


if __name__ == "__main__":
    main()
