"""The files in ``binder/`` alone make an environment in which the tour runs.

Binder (repo2docker) reads ``binder/runtime.txt`` for the Python version, runs
``pip install -r binder/requirements.txt`` from the repository root, then
``binder/postBuild``. This test does the same in a fresh virtual environment (with that Python when it is installed here, else
with the running one), installs a kernelspec into the environment, and executes the
tour with nbclient on that kernel. pip's cache is reused, so later runs are faster.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
TOUR = ROOT / "notebooks" / "00_tour.ipynb"
KERNEL = "paramlab-binder-test"
OFFLINE_SIGNS = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "NewConnectionError",
)


def _runtime_version() -> str:
    text = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(3\.\d+)", text)
    assert match, f"binder/runtime.txt must read python-3.X, got {text!r}"
    return match.group(1)


def _run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        output = result.stdout + result.stderr
        if any(sign in output for sign in OFFLINE_SIGNS):
            pytest.skip(f"no package index reachable: {' '.join(map(str, cmd))}")
        pytest.fail(f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n{output[-4000:]}")
    return result


def test_binder_files():
    assert (BINDER / "requirements.txt").exists() and (BINDER / "runtime.txt").exists()
    minor = int(_runtime_version().split(".")[1])
    assert minor >= 10, "paramlab needs Python >= 3.10 (pyproject requires-python)"
    lines = [
        line.strip()
        for line in (BINDER / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert any(re.fullmatch(r"(-e\s+)?\.\[widgets\]", line) for line in lines), lines
    assert os.access(BINDER / "postBuild", os.X_OK), "binder/postBuild must be executable"


@pytest.mark.slow
def test_binder_environment_runs_the_tour(tmp_path, monkeypatch):
    version = _runtime_version()
    base = shutil.which(f"python{version}") or sys.executable
    venv = tmp_path / "binder-venv"
    _run([base, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    # Exactly what Binder runs, from the repository root.
    _run([str(python), "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"],
         cwd=ROOT, env=env)
    venv_env = {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"}
    _run(["bash", str(BINDER / "postBuild")], cwd=ROOT, env=venv_env)
    probe = subprocess.run([str(python), "-c", "import ipykernel, nbclient"],
                           capture_output=True, env=env)
    if probe.returncode != 0:  # Binder's base image has them; install if the extra did not
        _run([str(python), "-m", "pip", "install", "-q", "ipykernel", "nbclient"], env=env)
    _run([str(python), "-m", "ipykernel", "install", "--prefix", str(venv), "--name", KERNEL],
         env=env)
    monkeypatch.setenv("JUPYTER_PATH", str(venv / "share" / "jupyter"))

    nb = nbformat.read(TOUR, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys, paramlab\n"
        f"assert sys.prefix == {str(venv)!r}, sys.prefix\n"
        "from paramlab.widgets import ParameterView  # the widgets extra and the browser files\n"
        "assert 'inlined by paramlab' in ParameterView(w)._esm, 'widgets/*.js not found'\n"
        "print('binder environment ok')"
    ))
    client = NotebookClient(nb, timeout=240, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(TOUR.parent)}})
    client.execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "binder environment ok" in printed
