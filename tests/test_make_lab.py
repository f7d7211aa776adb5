"""`make lab` serves the tour notebook on 127.0.0.1 and refuses requests without the token."""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, b""
    except (urllib.error.URLError, ConnectionError):
        return None, b""


@pytest.mark.slow
def test_make_lab_serves_the_tour_with_token_auth():
    if shutil.which("make") is None or not (ROOT / ".venv" / "bin" / "jupyter").exists():
        pytest.fail("make and the .venv created by `make test` are required")
    port, token = _free_port(), "paramlab-test-token"
    env = dict(os.environ, JUPYTER_TOKEN=token)
    proc = subprocess.Popen(
        ["make", "-s", "lab", f"LAB_ARGS=--port={port} --no-browser --ServerApp.port_retries=0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            status, _ = _get(f"{base}/api/status?token={token}")
            if status == 200:
                break
            if proc.poll() is not None:
                pytest.fail(proc.stdout.read().decode(errors="replace")[-2000:])
            time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 90 s")
        assert _get(f"{base}/api/status")[0] in (401, 403)
        status, body = _get(f"{base}/api/contents/notebooks/00_tour.ipynb?token={token}")
        assert status == 200 and b"five-minute tour" in body
        with socket.socket() as s:  # bound to loopback only
            assert s.connect_ex(("127.0.0.1", port)) == 0
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
