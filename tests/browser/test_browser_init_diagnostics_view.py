"""InitDiagnosticsView in a real JupyterLab: per-layer curves against theory, table, findings."""

from __future__ import annotations

import json

import pytest
from browserkit import DARK, LIGHT, canvas_colours, js_fmt

pytestmark = pytest.mark.browser

VIEW = "paramlab-init-diagnostics-view"

SETUP = """\
import json
import paramlab as mx
from paramlab.widgets.diagnostics_view import InitDiagnosticsView

net = mx.gluon.nn.Sequential()
for i in range(8):
    net.add(mx.gluon.nn.Dense(64, in_units=64, activation="relu" if i % 2 else "tanh"))
net.initialize(mx.init.Xavier(magnitude=2.0))
x = mx.nd.random.normal(shape=(128, 64))
v = InitDiagnosticsView(net, x)
v"""

REPORT = """\
import numpy as np
c = {k: np.frombuffer(a["buffer"], dtype=a["dtype"]).tolist() for k, a in v.curves.items()}
print(json.dumps({"act_rms": c["act_rms"], "grad_rms": c["grad_rms"],
                  "layers": [l["name"] for l in v.layers], "findings": len(v.findings),
                  "seq": v.seq}))"""


def test_init_diagnostics_view_draws_curves_table_and_recomputes(notebook):
    nb = notebook("diagnostics.ipynb", [SETUP, REPORT])
    nb.run_cell(0)
    view = nb.page.locator(f".{VIEW}").first
    view.locator(".paramlab-diag-table tbody tr").first.wait_for(timeout=60_000)
    nb.run_cell(1)
    rep = json.loads(nb.stdout(1).strip().splitlines()[-1])

    rows = view.locator(".paramlab-diag-table tbody tr")
    assert rows.count() == len(rep["layers"]) == 8
    for i in (0, 7):
        cells = rows.nth(i).locator("td")
        assert cells.nth(5).inner_text() == js_fmt(rep["act_rms"][i], 3)
        assert cells.nth(11).inner_text() == js_fmt(rep["grad_rms"][i], 3)
    assert view.locator(".paramlab-finding").count() == rep["findings"]
    assert "8 layers" in view.locator(".paramlab-diag-summary").inner_text()
    colours = canvas_colours(nb.page, f".{VIEW} canvas")
    assert colours and min(c for c in colours if c != -1) > 2, colours

    # selecting a layer enlarges its histograms (display only)
    rows.nth(2).click()
    view.locator(".paramlab-diag-detail:not([hidden])").wait_for(timeout=10_000)
    assert "layer 3" in view.locator(".paramlab-diag-detail").inner_text()
    colours = canvas_colours(nb.page, f".{VIEW} .paramlab-diag-detail canvas")
    assert min(colours) > 2, colours

    # recompute runs the report again in the kernel (it is idle)
    seq = int(nb.dataset(VIEW)["paramlabSeq"])
    view.locator(".paramlab-recompute").click()
    nb.page.wait_for_function(
        f"(s) => Number(document.querySelector('.paramlab-host:has(> .{VIEW})')"
        ".dataset.paramlabSeq) > s", arg=seq, timeout=30_000)

    for theme in (LIGHT, DARK):
        if theme == DARK:
            nb.set_theme(DARK)
        nb.screenshot("init_diagnostics_view", theme, f".{VIEW}")
    nb.set_theme(LIGHT)
