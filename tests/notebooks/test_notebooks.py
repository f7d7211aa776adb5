"""Every teaching notebook runs top to bottom (its last cells assert what it teaches).

Each notebook executes with ``notebooks/`` as its working directory, as in JupyterLab
and on Binder, so relative paths such as ``../tests/data/...`` resolve; it must write
nothing there (files go to a temporary directory).
"""

from __future__ import annotations

import importlib.util
import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
GENERATOR = ROOT / "tools" / "make_notebooks.py"


def _files_under(folder: pathlib.Path) -> set[pathlib.Path]:
    return {
        p
        for p in folder.rglob("*")
        if not any(part in (".ipynb_checkpoints", "__pycache__") for part in p.parts)
    }


def _generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_are_notebooks():
    assert any(p.name == "00_tour.ipynb" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name} holds outputs; strip them before committing"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path):
    nb = nbformat.read(path, as_version=4)
    before = _files_under(NOTEBOOK_DIR)
    client = NotebookClient(nb, timeout=240, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()
    created = sorted(str(p.relative_to(ROOT)) for p in _files_under(NOTEBOOK_DIR) - before)
    assert not created, f"{path.name} wrote into notebooks/: {created}; use a temporary directory"


def test_generated_notebooks_match_their_generator():
    """The stored lessons are what ``tools/make_notebooks.py`` writes (regenerate after edits)."""
    generator = _generator()
    for stem in generator.BUILDERS:
        path = NOTEBOOK_DIR / f"{stem}.ipynb"
        assert path.exists(), f"{path.name} is missing; run python tools/make_notebooks.py"
        stored = nbformat.read(path, as_version=4)
        fresh = generator.build(stem)
        assert [(c.cell_type, c.source) for c in stored.cells] == [
            (c.cell_type, c.source) for c in fresh.cells
        ], f"{path.name} differs from tools/make_notebooks.py; run python tools/make_notebooks.py"
