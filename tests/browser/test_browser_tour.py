"""The tour notebook, run top to bottom in a real JupyterLab, renders each of its views."""

from __future__ import annotations

import nbformat
import pytest
from browserkit import ROOT, canvas_colours

pytestmark = pytest.mark.browser

VIEWS = ("paramlab-initializer-view", "paramlab-parameter-view", "paramlab-model-view")


def test_tour_runs_and_renders_its_views(notebook):
    tour = nbformat.read(ROOT / "notebooks" / "00_tour.ipynb", as_version=4)
    cells = [c.source for c in tour.cells if c.cell_type == "code"]
    nb = notebook("tour.ipynb", cells)
    nb.run_all()
    for cls in VIEWS:
        view = nb.page.locator(f".{cls}").first
        view.wait_for(timeout=60_000)
        colours = canvas_colours(nb.page, f".{cls} canvas")
        drawn = [c for c in colours if c > 2]
        assert drawn, f"{cls}: no canvas was drawn ({colours})"
    assert "tour complete" in nb.stdout(len(cells) - 1)
    model = nb.page.locator(".paramlab-model-view").first.inner_text()
    assert "0.weight" in model or "dense" in model
