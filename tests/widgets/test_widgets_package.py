"""The widgets package: light imports, the transport helpers, the wheel that ships the JS."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from paramlab.widgets import _transport
from paramlab.widgets._transport import RecordingComm, Throttle, array_payload, bundle

REPO = Path(__file__).resolve().parents[2]
VIEW_FILES = {
    "ParameterView": "parameter_view.js",
    "InitializerView": "initializer_view.js",
    "ModelView": "model_view.js",
}


def test_import_paramlab_stays_light():
    code = (
        "import sys, paramlab, paramlab.gluon, paramlab.summary\n"
        "heavy = [m for m in ('ipywidgets', 'anywidget', 'traitlets', 'matplotlib') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("dtype", _transport.WIRE_DTYPES)
def test_array_payload_roundtrip(dtype):
    a = np.arange(12).reshape(3, 4)
    p = array_payload(a, dtype)
    assert p["shape"] == [3, 4] and p["dtype"] == dtype
    back = np.frombuffer(p["buffer"], dtype=np.dtype(dtype).newbyteorder("<")).reshape(3, 4)
    assert np.array_equal(back, a)


def test_array_payload_refuses_int64():
    with pytest.raises(TypeError, match="got dtype 'int64'"):
        array_payload(np.arange(3, dtype=np.int64))
    assert array_payload(np.zeros((0, 3), np.float32))["shape"] == [0, 3]


def test_throttle_budgets():
    t = Throttle(clock=lambda: 0.0)
    t.sent(0.0, 0.0, nbytes=1_000_000, rate=10, max_bytes_per_second=500_000, max_duty=0.05)
    assert t.next_at == 2.0  # the byte budget dominates
    t.sent(0.0, 0.5, nbytes=10, rate=10, max_bytes_per_second=500_000, max_duty=0.05)
    assert t.next_at == 10.0  # the duty budget dominates
    t.sent(0.0, 0.0, nbytes=10, rate=0, max_bytes_per_second=500_000, max_duty=0.05)
    assert t.next_at == float("inf")


def test_bundle_inlines_common():
    common = "export function h() {}\nexport const k = 1;\nexport { h as hh };"
    view = 'import { h, k as kk } from "./common.js";\nexport default { render() {} };'
    src = bundle(view, common)
    assert (
        "./common.js" not in src
        and "const kk = k;" in src
        and src.index("function h") < src.index("render")
    )
    star = bundle('import * as c from "./common.js";\nexport default {};', common)
    assert "const c = Object.freeze({ h, k, hh });" in star
    assert bundle("export default {};", None) == "export default {};"
    with pytest.raises(FileNotFoundError):
        bundle('import { h } from "./common.js";', None)


def test_esm_sources_come_from_the_repo_in_an_editable_install():
    assert _transport.static_dir() == REPO / "widgets"
    for name in VIEW_FILES.values():
        if (REPO / "widgets" / name).exists():
            src = _transport.esm_source(name)
            assert "is missing from this installation" not in src
            assert 'from "./common.js"' not in src
    assert "is missing" in _transport.esm_source("no_such_view.js")


def test_recording_comm_sizes():
    c = RecordingComm()
    c.send({"method": "update", "state": {"a": 1}, "buffer_paths": []}, buffers=[b"1234"])
    assert RecordingComm.nbytes(c.messages[0]) > 4
    with pytest.raises(RuntimeError, match="no widget listens"):
        RecordingComm().receive({})


_WHEEL_SCRIPT = """
import json, os, shutil, sys
import paramlab as mx
from paramlab.widgets import ParameterView, InitializerView, ModelView, view, watch, _transport
assert shutil.which("node") is None, "node is reachable"
here = os.path.dirname(mx.__file__)
assert here.startswith(sys.prefix), (here, sys.prefix)
static = _transport.static_dir()
assert str(static) == os.path.join(here, "_static"), static
net = mx.gluon.nn.Dense(4, in_units=3)
net.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
views = {
    "ParameterView": ParameterView(net.weight),
    "InitializerView": InitializerView(mx.init.Xavier(), shape=(32, 16)),
    "ModelView": ModelView(net),
    "watch": watch(trainer),
}
out = {}
for name, v in views.items():
    esm = v._esm
    out[name] = {"fallback": "is missing from this installation" in esm, "len": len(esm),
                 "css": len(v._css), "png": v.to_png()[:4] == b"\\x89PNG",
                 "text": v.summary_text()[:40]}
out["files"] = sorted(os.listdir(static))
print(json.dumps(out))
"""


@pytest.mark.slow
def test_wheel_ships_the_browser_files(tmp_path):
    """Build the wheel, install it in a fresh venv without Node.js, create each view from it."""
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-w", str(dist), "-q"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (wheel,) = dist.glob("paramlab-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            str(wheel),
            "ipywidgets",
            "anywidget",
            "matplotlib",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    env = {"PATH": str(venv / "bin"), "HOME": str(tmp_path), "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [str(python), "-c", textwrap.dedent(_WHEEL_SCRIPT)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    out = json.loads(proc.stdout.strip().splitlines()[-1])
    shipped = sorted(p.name for p in (REPO / "widgets").iterdir() if p.suffix in (".js", ".css"))
    assert out["files"] == shipped
    for name, info in out.items():
        if name == "files":
            continue
        js = VIEW_FILES.get(name, "model_view.js")
        assert info["fallback"] is (js not in shipped), (name, info)
        assert info["png"] and info["css"] > 0
    assert os.environ.get("PATH")  # the test's own environment is untouched
