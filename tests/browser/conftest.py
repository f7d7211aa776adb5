"""Real-browser fixtures: one JupyterLab server and one headless Debian chromium per session.

The server runs from the repository's ``.venv`` on 127.0.0.1 with a random port and token, in
its own process session, with every Jupyter directory (config, data, runtime, settings,
workspaces) inside a temporary folder so the tests never read or change the user's set-up.
Tests write small notebooks with ``nbformat`` into that folder, open them in a fresh browser
page and run cells through JupyterLab's own commands (the app is exposed as
``window.jupyterapp``). ``harness`` is a plain page (no kernel) for the view modules alone.

Chromium is Debian's ``/usr/bin/chromium``; nothing here downloads a browser.
"""

from __future__ import annotations

import os
import pathlib
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
from browserkit import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    LIGHT,
    PAGE_READY_MS,
    ROOT,
    SERVER_START_S,
    VENV_JUPYTER,
    Frames,
    Lab,
    Notebook,
    free_port,
    write_notebook,
    write_settings,
)


@pytest.fixture(scope="session")
def lab():
    """Start ``.venv/bin/jupyter lab`` on a free loopback port; kill its process group at the end.
    """
    if not VENV_JUPYTER.exists():
        pytest.fail(f"{VENV_JUPYTER} is missing: run `make test` once to create the .venv")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="paramlab-lab-"))
    root, home = tmp / "notebooks", tmp / "home"
    for d in (root, home):
        d.mkdir()
    settings_dir = home / "settings"
    write_settings(settings_dir)
    port, token = free_port(), secrets.token_hex(24)
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        MPLCONFIGDIR=str(home / "mpl"),
        PYTHONPATH=os.pathsep.join([str(ROOT)] + ([os.environ["PYTHONPATH"]]
                                                  if os.environ.get("PYTHONPATH") else [])),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    env.pop("JUPYTER_TOKEN", None)
    cmd = [
        str(VENV_JUPYTER), "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--ServerApp.open_browser=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log_path = tmp / "lab.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    server = Lab(f"http://127.0.0.1:{port}", token, root, proc, log_path)
    try:
        deadline = time.time() + SERVER_START_S
        while time.time() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{server.log_tail()}")
            if server.api("GET", "/api/status")[0] == 200:
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s:\n"
                        f"{server.log_tail()}")
        yield server
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, through Playwright's sync API (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing (CI installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def notebook(lab, browser, request):
    """Factory: ``notebook(name, cells)`` writes, opens and returns a :class:`Notebook`.

    Each call uses a fresh browser context (1400x1400) whose WebSocket frames are recorded. The
    kernel is shut down and the page closed at the end of the test; on failure the page's console
    and a screenshot are kept under ``test-artifacts/``.
    """
    opened: list[tuple[Notebook, object]] = []

    def make(name: str, cells: list[str]) -> Notebook:
        write_notebook(lab.root, name, cells)
        lab.set_theme(LIGHT)  # every test starts light (a test may switch its own page to dark)
        context = browser.new_context(viewport={"width": 1400, "height": 1400},
                                      device_scale_factor=1)
        page = context.new_page()
        page.set_default_timeout(PAGE_READY_MS)
        frames = Frames()
        frames.attach(page)
        nb = Notebook(lab, page, name, frames)
        opened.append((nb, context))
        return nb.open()

    yield make

    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for nb, context in opened:
        if failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            stem = request.node.name.replace("/", "_")
            try:
                nb.page.screenshot(path=str(ARTIFACTS / f"failed-{stem}.png"))
            except Exception:
                pass
            (ARTIFACTS / f"failed-{stem}.console.txt").write_text(
                "\n".join(nb.console) + "\n--- server log ---\n" + lab.log_tail())
        try:
            context.close()
        except Exception:
            pass
    lab.shutdown_kernels()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)



# ---------------------------------------------------------------------- offline harness (no kernel)
HARNESS_ORIGIN = "http://paramlab.test"
_SERVED = {"widgets": ROOT / "widgets", "harness": pathlib.Path(__file__).parent / "harness"}
_MIME = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}


def _serve(route):
    """Serve /widgets/* and /harness/* from disk (no HTTP server, nothing leaves the page)."""
    path = route.request.url[len(HARNESS_ORIGIN):].split("?")[0].lstrip("/")
    top, _, rest = path.partition("/")
    base = _SERVED.get(top)
    target = (base / rest).resolve() if base else None
    if target is None or base.resolve() not in target.parents or not target.is_file():
        route.fulfill(status=404, body="not found")
        return
    route.fulfill(status=200, body=target.read_bytes(),
                  headers={"Content-Type": _MIME.get(target.suffix, "application/octet-stream"),
                           "Cache-Control": "no-store"})


@pytest.fixture
def harness(browser):
    """A plain page with paramlab.css and the fake model of ``harness/fake.js`` (no JupyterLab)."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.route(f"{HARNESS_ORIGIN}/**", _serve)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{HARNESS_ORIGIN}/harness/index.html")
    page.errors = errors
    yield page
    context.close()
