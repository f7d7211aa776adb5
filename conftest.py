"""Shared test fixtures: contexts (always two CPUs), reference MXNet, browser availability."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap

import pytest

import paramlab as mx
from paramlab import _backend
from paramlab._autograd import set_recording, set_training
from paramlab.util import reset_np

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _gpu_param(i=0):
    return pytest.param(mx.gpu(i), marks=pytest.mark.gpu, id=f"gpu{i}")


@pytest.fixture(params=[mx.cpu(0), mx.cpu(1), _gpu_param()], ids=lambda c: str(c))
def ctx(request):
    """Every context a test should pass on: cpu(0), cpu(1) and gpu(0) (marked gpu)."""
    return request.param


@pytest.fixture(
    params=[
        pytest.param([mx.cpu(0), mx.cpu(1)], id="cpu0+cpu1"),
        pytest.param([mx.gpu(0), mx.cpu(0)], marks=pytest.mark.gpu, id="gpu0+cpu0"),
    ]
)
def ctx_list(request):
    """Two contexts for multi-device tests (two CPUs always; a GPU and a CPU under gpu)."""
    return request.param


def pytest_collection_modifyitems(config, items):
    """Skip gpu tests without a GPU, mxnet_ref tests without the reference interpreter,
    and browser tests without chromium (except under CI=true, where they must run)."""
    have_gpu = _backend.num_gpus() > 0
    have_mxnet = bool(os.environ.get("PARAMLAB_MXNET_PYTHON"))
    have_chromium = shutil.which("chromium") is not None or os.path.exists("/usr/bin/chromium")
    for item in items:
        if "gpu" in item.keywords and not have_gpu:
            reason = _backend.cupy_missing_reason() or "no GPU on this machine"
            item.add_marker(pytest.mark.skip(reason=f"gpu test: {reason}"))
        if "mxnet_ref" in item.keywords and not have_mxnet:
            item.add_marker(
                pytest.mark.skip(reason="reference MXNet not configured: set PARAMLAB_MXNET_PYTHON")
            )
        if "browser" in item.keywords and not have_chromium and not CI:
            item.add_marker(
                pytest.mark.skip(
                    reason="Debian's chromium is missing (/usr/bin/chromium); run `make test` as "
                    "root to install it"
                )
            )


@pytest.fixture(autouse=True)
def _clean_global_state():
    """Each test starts in MXNet 1.x mode, not recording, with a fixed seed."""
    reset_np()
    set_recording(False)
    set_training(False)
    mx.random.seed(0)
    yield
    reset_np()
    set_recording(False)
    set_training(False)


@pytest.fixture
def broken_op():
    """An autograd Function whose backward raises (user code failing part-way through a walk)."""

    class Broken(mx.autograd.Function):
        def forward(self, x):
            return x * 1

        def backward(self, dy):
            raise ValueError("Broken.backward: no gradient today")

    return Broken


@pytest.fixture
def mxnet_ref():
    """Run a Python snippet in the reference MXNet interpreter; return its JSON output.

    The snippet must print one JSON document as its last line of output.
    """
    python = os.environ.get("PARAMLAB_MXNET_PYTHON")
    if not python:
        pytest.skip("reference MXNet not configured: set PARAMLAB_MXNET_PYTHON")

    def run(code: str, timeout=300):
        proc = subprocess.run(
            [python, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"reference MXNet failed:\n{proc.stderr[-4000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    return run
