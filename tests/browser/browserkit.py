"""Helpers for the browser tests: the JupyterLab handle, notebook pages, frame sizes, pixels."""

from __future__ import annotations

import json
import pathlib
import re
import socket
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
VENV_JUPYTER = ROOT / ".venv" / "bin" / "jupyter"
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"

# Bounded waits (milliseconds for Playwright, seconds for the server).
SERVER_START_S = 120
PAGE_READY_MS = 90_000
CELL_RUN_MS = 120_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(method, url, body=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None, b""


def write_settings(settings_dir: pathlib.Path):
    """Quiet JupyterLab: no news toast, no update check, no extension manager (no network)."""
    files = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True},
        "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
        "@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": LIGHT},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
            {"windowingMode": "none"},
    }
    for rel, content in files.items():
        path = settings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))


class Lab:
    """A running JupyterLab: its URL, token, notebook folder and REST helpers."""

    def __init__(self, base: str, token: str, root: pathlib.Path, proc, log_path):
        self.base, self.token, self.root = base, token, root
        self.proc, self.log_path = proc, log_path

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}{path}{sep}token={self.token}"

    def api(self, method: str, path: str, body=None):
        status, raw = _http(method, self.url(path), body)
        return status, (json.loads(raw) if raw else None)

    def set_theme(self, theme: str):
        """Persist the theme through the settings API (applies to pages opened afterwards)."""
        status, _ = self.api("PUT", "/lab/api/settings/@jupyterlab/apputils-extension:themes",
                             {"raw": json.dumps({"theme": theme})})
        assert status in (200, 204), f"setting the theme to {theme!r} failed: HTTP {status}"

    def log_tail(self, n: int = 4000) -> str:
        try:
            return pathlib.Path(self.log_path).read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def shutdown_kernels(self):
        status, sessions = self.api("GET", "/api/sessions")
        if status == 200:
            for s in sessions or []:
                self.api("DELETE", f"/api/sessions/{s['id']}")


class Frames:
    """Sizes of every WebSocket frame the page receives (kernel messages included)."""

    def __init__(self):
        self.sizes: list[tuple[str, int]] = []
        self.big: list[tuple[int, str]] = []  # (size, what) of frames above 16 KB
        self.updates: list[int] = []  # sizes of comm_msg "update" frames (live widget data)

    def attach(self, page):
        def on_ws(ws):
            url = ws.url

            def on_frame(payload):
                n = _size(payload)
                self.sizes.append((url, n))
                if _is_comm_update(payload):
                    self.updates.append(n)
                if n > 16 * 1024:
                    self.big.append((n, _describe(payload)))

            ws.on("framereceived", on_frame)

        page.on("websocket", on_ws)

    def comm_updates(self):
        return list(self.updates)

    def kernel(self):
        return [n for url, n in self.sizes if "/api/kernels/" in url]


def _is_comm_update(payload) -> bool:
    """A kernel -> browser comm_msg whose data method is "update" (live widget state)."""
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    head = raw[:8192].replace(b'": "', b'":"')
    return b'"msg_type":"comm_msg"' in head and b'"method":"update"' in head


def _describe(payload) -> str:
    """msg_type, comm method and the largest keys of a kernel message (for reports)."""
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    text = raw.decode("utf-8", errors="replace")
    kinds = re.findall(r'"msg_type":\s*"([a-z_]+)"', text)[:1]
    method = re.findall(r'"method":\s*"([a-z_]+)"', text)[:1]
    mimes = sorted(set(re.findall(r'"((?:image|text|application)/[a-z.+\-]+)"', text)))
    esm = "_esm" if '"_esm"' in text else ""
    return " ".join(kinds + method + mimes + [esm]).strip()


def _size(payload) -> int:
    if isinstance(payload, str):
        return len(payload.encode("utf-8"))
    return len(payload)


class Notebook:
    """A notebook page in JupyterLab, driven through the app's commands."""

    def __init__(self, lab: Lab, page, name: str, frames: Frames):
        self.lab, self.page, self.name, self.frames = lab, page, name, frames
        self.console: list[str] = []
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))

    def open(self):
        # ?reset: a clean workspace, so notebooks of earlier tests are not reopened
        self.page.goto(self.lab.url(f"/lab/tree/{self.name}?reset"), wait_until="domcontentloaded")
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell && "
            "window.jupyterapp.shell.currentWidget && "
            "window.jupyterapp.shell.currentWidget.sessionContext && "
            "window.jupyterapp.shell.currentWidget.sessionContext.session && "
            "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel && "
            "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
            ".connectionStatus === 'connected' && "
            "window.jupyterapp.shell.currentWidget.sessionContext.kernelDisplayStatus === 'idle'",
            timeout=PAGE_READY_MS,
        )
        return self

    def command(self, name: str, args: dict | None = None):
        return self.page.evaluate(
            "([n, a]) => window.jupyterapp.commands.execute(n, a)", [name, args or {}])

    def run_all(self, timeout=CELL_RUN_MS):
        """Run every cell (JupyterLab's Run All) and wait until all ran and the kernel is idle."""
        self.command("notebook:run-all-cells")
        self.wait_idle(timeout)
        self.check_no_errors()

    def run_cell(self, index: int, wait: bool = True, timeout=CELL_RUN_MS):
        """Run one cell; with ``wait=False`` return as soon as it is submitted."""
        self.page.evaluate(
            """(i) => {
                const nb = window.jupyterapp.shell.currentWidget;
                nb.content.widgets[i].model.sharedModel.execution_count = null;
                nb.content.activeCellIndex = i;
                window.__plRun = window.jupyterapp.commands.execute('notebook:run-cell');
            }""", index)
        if wait:
            self.wait_cell(index, timeout)
            self.check_no_errors()

    def cell_busy(self, index: int) -> bool:
        return self.page.evaluate(
            "(i) => { const c = window.jupyterapp.shell.currentWidget.content.widgets[i];"
            " return c.model.executionCount === null ||"
            " c.node.querySelector('.jp-InputPrompt').textContent.includes('*'); }", index)

    def wait_cell(self, index: int, timeout=CELL_RUN_MS):
        self.page.wait_for_function(
            """(i) => {
                const nb = window.jupyterapp.shell.currentWidget;
                const c = nb.content.widgets[i];
                return c.model.executionCount !== null &&
                       !c.node.querySelector('.jp-InputPrompt').textContent.includes('*') &&
                       nb.sessionContext.kernelDisplayStatus === 'idle';
            }""", arg=index, timeout=timeout)

    def wait_idle(self, timeout=CELL_RUN_MS):
        """Wait until every code cell has run and the kernel is idle."""
        self.page.wait_for_function(
            """() => {
                const nb = window.jupyterapp.shell.currentWidget;
                const cells = nb.content.widgets.filter(c => c.model.type === 'code');
                const done = cells.every(c => c.model.executionCount !== null &&
                    !c.node.querySelector('.jp-InputPrompt').textContent.includes('*'));
                return done && nb.sessionContext.kernelDisplayStatus === 'idle';
            }""", timeout=timeout)

    def outputs(self, index: int) -> list[dict]:
        """The outputs of one cell as nbformat JSON."""
        return self.page.evaluate(
            "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i]"
            ".model.outputs.toJSON()", index)

    def stdout(self, index: int) -> str:
        return "".join(
            "".join(o["text"]) if isinstance(o.get("text"), list) else o.get("text", "")
            for o in self.outputs(index) if o.get("output_type") == "stream"
            and o.get("name") == "stdout")

    def check_no_errors(self):
        """Fail with the traceback if any cell raised."""
        errs = self.page.evaluate(
            """() => window.jupyterapp.shell.currentWidget.content.widgets
                 .flatMap(c => c.model.type === 'code' ? c.model.outputs.toJSON() : [])
                 .filter(o => o.output_type === 'error')
                 .map(o => [o.ename + ': ' + o.evalue, ...(o.traceback || [])]
                      .join(String.fromCharCode(10)))""")
        if errs:
            text = re.sub(r"\x1b\[[0-9;]*m", "", "\n\n".join(errs))
            raise AssertionError(f"a notebook cell raised:\n{text}")

    def set_theme(self, theme: str):
        """Switch JupyterLab's theme in this page (the views redraw on the change)."""
        self.command("apputils:change-theme", {"theme": theme})
        light = "true" if theme == LIGHT else "false"
        self.page.wait_for_function(
            f"() => document.body.dataset.jpThemeLight === '{light}' && "
            f"document.body.dataset.jpThemeName === {json.dumps(theme)}",
            timeout=30_000)
        self.page.wait_for_timeout(800)  # theme CSS settles; the views redraw on the change

    def screenshot(self, stem: str, theme: str, selector: str | None = None):
        """Save a PNG under test-artifacts/screenshots/ (the element's output area, or the page)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        suffix = "light" if theme == LIGHT else "dark"
        path = SCREENSHOTS / f"{stem}-{suffix}.png"
        if selector:
            loc = self.page.locator(selector).first
            loc.scroll_into_view_if_needed()
            loc.screenshot(path=str(path))
        else:
            self.page.screenshot(path=str(path), full_page=False)
        return path

    def host(self, view_class: str):
        """Locator of the anywidget element that holds the view whose root has `view_class`."""
        return self.page.locator(f".paramlab-host:has(> .{view_class})").first

    def dataset(self, view_class: str) -> dict:
        return self.host(view_class).evaluate("(el) => Object.assign({}, el.dataset)")


def write_notebook(root: pathlib.Path, name: str, cells: list[str]) -> str:
    """Write a notebook of code cells (outputs empty) into the server's root; return its name."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    path = root / name
    nbformat.write(nb, str(path))
    return name



def canvas_colours(page, selector: str) -> list[int]:
    """For each canvas under `selector`: how many distinct colours it holds (-1 if not shown)."""
    return page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(sel)).map(c => {
            if (!c.width || !c.height || !c.offsetParent) return -1;
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const seen = new Set();
            for (let i = 0; i < d.length; i += 4) {
              if (d[i + 3]) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
            }
            return seen.size; })""", selector)


def js_fmt(x, digits: int = 4) -> str:
    """The views' number format (``fmt`` in widgets/common.js), for matching their text."""
    if x is None:
        return "-"
    if x == 0:
        return "0"
    if abs(x) >= 1e5 or abs(x) < 1e-3:
        m, e = f"{x:.{digits - 1}e}".split("e")
        if "." in m:
            m = m.rstrip("0").rstrip(".")
        return f"{m}e{int(e)}"
    r = repr(float(f"{x:.{digits}g}"))
    return r[:-2] if r.endswith(".0") else r
