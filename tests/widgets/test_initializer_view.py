"""InitializerView, headless: the draw against the stated law; arguments that re-draw."""

from __future__ import annotations

import math

import numpy as np
import pytest

import paramlab as mx
from paramlab.widgets import InitializerView
from paramlab.widgets._static import decode


def test_xavier_against_its_theory(recording):
    view = InitializerView(mx.init.Xavier(magnitude=3), shape=(256, 256), ctx=mx.cpu(1))
    high = math.sqrt(3.0 / 256)
    assert view.init_name == "xavier" and view.ctx == "cpu(1)"
    assert view.theory["family"] == "uniform"
    assert view.theory["std"] == pytest.approx(high / math.sqrt(3))
    assert view.stats["std"] == pytest.approx(view.theory["std"], rel=0.02)
    assert view.stats["count"] == 256 * 256
    assert view.check_kind == "ks" and 0 < view.ks < 0.01
    edges = decode(view.edges)
    assert edges[0] == pytest.approx(-high, rel=1e-3) and edges[-1] == pytest.approx(high, rel=1e-3)
    pdf = decode(view.theory["pdf"])
    assert np.allclose(pdf, 1 / (2 * high), rtol=1e-3)
    expected = decode(view.theory["expected"])
    assert expected.sum() == pytest.approx(256 * 256, rel=1e-3)
    assert decode(view.pdf_curve["x"]).shape == (256,)
    names = [s["name"] for s in view.arg_specs]
    assert names == ["rnd_type", "factor_type", "magnitude"]
    spec = {s["name"]: s for s in view.arg_specs}
    assert spec["factor_type"]["kind"] == "choice" and spec["factor_type"]["choices"] == [
        "avg",
        "in",
        "out",
    ]
    assert spec["magnitude"]["kind"] == "float" and spec["magnitude"]["min"] == 0.0
    view.close()


def test_arguments_are_traits_that_redraw(recording):
    view = InitializerView("xavier", shape=(64, 32))
    comm = view.comm
    view.magnitude = 6.0
    assert view.draws == 2
    assert view.theory["params"]["high"] == pytest.approx(math.sqrt(6.0 / 48))
    view.rnd_type = "gaussian"
    assert view.theory["family"] == "normal" and view.draws == 3
    # from the browser: an argument trait, then the redraw button
    comm.receive({"method": "update", "state": {"factor_type": "in"}, "buffer_paths": []})
    assert view.theory["std"] == pytest.approx(math.sqrt(6.0 / 32))
    before = decode(view.hist["counts"]).copy()
    comm.receive({"method": "custom", "content": {"type": "redraw"}})
    assert view.draws == 5 and not np.array_equal(before, decode(view.hist["counts"]))
    view.shape = [16, 16]
    assert view.stats["shape"] == [16, 16]
    view.close()


def test_invalid_argument_sets_error_and_keeps_the_draw(recording):
    view = InitializerView(mx.init.Normal(0.5), shape=(32, 32))
    stats = view.stats
    view.sigma = -1.0
    assert "sigma" in view.error and view.stats == stats and view.draws == 1
    view.sigma = 0.25
    assert view.error == "" and view.theory["std"] == pytest.approx(0.25)
    view.close()


@pytest.mark.parametrize(
    "init, kind",
    [
        (mx.init.Constant(0.5), "max_deviation"),
        (mx.init.Orthogonal(), "orthogonality"),
        (mx.init.Zero(), "max_deviation"),
        (mx.init.Uniform(0.1), "ks"),
    ],
)
def test_check_kinds(recording, init, kind):
    view = InitializerView(init, shape=(16, 32))
    assert view.check_kind == kind and view.ks is not None and view.ks < 0.2
    text = view.summary_text()
    assert "theory:" in text and "measured:" in text
    assert view.to_png()[:4] == b"\x89PNG"
    view.close()


def test_bad_input():
    with pytest.raises(TypeError, match="InitializerView expects an Initializer"):
        InitializerView(3.0)
    with pytest.raises(ValueError, match="each >= 1"):
        InitializerView("normal", shape=(0, 3))
    with pytest.raises(ValueError, match="dtype must be one of"):
        InitializerView("normal", dtype="int32")
    with pytest.raises(TypeError, match="ctx must be a Context"):
        InitializerView("normal", ctx="cpu(0)")
