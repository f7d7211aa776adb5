"""InitializerView in a real JupyterLab: histogram vs the law, moments, KS, controls, re-draw."""

from __future__ import annotations

import json

import pytest
from browserkit import DARK, LIGHT, canvas_colours, js_fmt

pytestmark = pytest.mark.browser

VIEW = "paramlab-initializer-view"

SETUP = """\
import json
import paramlab as mx
from paramlab.widgets import InitializerView
v = InitializerView(mx.init.Normal(0.05), shape=(256, 256))
v"""

REPORT = """\
print(json.dumps({"stats": v.stats, "mean": v.theory["mean"], "std": v.theory["std"],
                  "ks": v.ks, "draws": v.draws, "sigma": v.sigma}))"""

XAVIER = """\
x = InitializerView(mx.init.Xavier(rnd_type="gaussian", magnitude=2.0), shape=(128, 64))
x"""


def report(nb, cell):
    nb.run_cell(cell)
    return json.loads(nb.stdout(cell).strip().splitlines()[-1])


def test_initializer_view_draws_the_law_and_its_controls_redraw(notebook):
    nb = notebook("initializer.ipynb", [SETUP, REPORT, XAVIER])
    nb.run_cell(0)
    view = nb.page.locator(f".{VIEW}").first
    view.locator(".paramlab-moments tbody tr").first.wait_for(timeout=60_000)
    first = report(nb, 1)

    # the histogram, its density curve and the thumbnail are drawn
    colours = canvas_colours(nb.page, f".{VIEW} canvas")
    assert len(colours) >= 3 and min(c for c in colours if c != -1) > 2, colours
    text = view.inner_text()
    assert "Normal" in text and "256\u00d7256 float32" in text and "cpu(0)" in text
    moments = view.locator(".paramlab-moments").inner_text()
    assert js_fmt(first["std"]) in moments  # theory
    assert js_fmt(first["stats"]["std"]) in moments and js_fmt(first["stats"]["mean"]) in moments
    assert view.locator(".paramlab-ks").inner_text() == js_fmt(first["ks"], 3)
    assert "consistent" in view.locator(".paramlab-check").inner_text()
    assert first["ks"] < 0.02

    # an argument control re-draws with the new law (the kernel is idle)
    sigma = view.locator('input[data-arg="sigma"]')
    assert sigma.input_value() == "0.05"
    sigma.fill("0.2")
    sigma.press("Enter")
    nb.page.wait_for_function(
        f"() => document.querySelector('.{VIEW} .paramlab-moments')"
        ".innerText.includes('0.2')", timeout=30_000)
    second = report(nb, 1)
    assert second["sigma"] == 0.2 and second["std"] == pytest.approx(0.2)
    assert second["stats"]["std"] == pytest.approx(0.2, rel=0.02)
    view.locator(".paramlab-moments").filter(has_text=js_fmt(second["stats"]["std"])).wait_for()

    # the re-draw button makes a new draw with the same arguments
    draws = second["draws"]
    view.locator(".paramlab-redraw").click()
    view.locator(".paramlab-init-head").filter(has_text=f"draw #{draws + 1}").wait_for(
        timeout=30_000)
    third = report(nb, 1)
    assert third["draws"] == draws + 1 and third["stats"]["mean"] != second["stats"]["mean"]
    assert view.locator(".paramlab-ks").inner_text() == js_fmt(third["ks"], 3)

    # log scale is drawn at once by the browser
    before = nb.dataset(VIEW)["paramlabDraws"]
    view.locator(".paramlab-log").check()
    nb.page.wait_for_function(
        f"(b) => document.querySelector('.paramlab-host:has(> .{VIEW})')"
        ".dataset.paramlabDraws !== b", arg=before, timeout=10_000)

    # a second initializer with choice arguments
    nb.run_cell(2)
    xavier = nb.page.locator(f".{VIEW}").nth(1)
    xavier.locator(".paramlab-moments tbody tr").first.wait_for(timeout=30_000)
    assert xavier.locator('select[data-arg="rnd_type"]').input_value() == "gaussian"
    assert xavier.locator('select[data-arg="factor_type"]').input_value() == "avg"
    assert xavier.locator('input[data-arg="magnitude"]').input_value() == "2"
    assert "Xavier" in xavier.inner_text()

    for theme in (LIGHT, DARK):
        if theme == DARK:
            nb.set_theme(DARK)
        nb.screenshot("initializer_view", theme, f".{VIEW} >> nth=0")
        nb.screenshot("initializer_view_xavier", theme, f".{VIEW} >> nth=1")
    nb.set_theme(LIGHT)
