"""mx.init: deterministic initializers (exact values) and composite ones (FusedRNN, Mixed, Load)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import paramlab as mx


def fill(init, shape, ctx=None, dtype="float32", name="layer_weight", start=7.0):
    arr = mx.nd.full(shape, start, ctx=ctx or mx.cpu(0), dtype=dtype)
    init(mx.init.InitDesc(name), arr)
    return arr


# --------------------------------------------------------------------------- Zero, One, Constant
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "uint8"])
def test_zero_and_one(ctx, dtype):
    np.testing.assert_array_equal(fill(mx.init.Zero(), (3, 4), ctx, dtype).asnumpy(), 0)
    np.testing.assert_array_equal(fill(mx.init.One(), (3, 4), ctx, dtype).asnumpy(), 1)
    theory = mx.init.One().theory((3, 4), dtype)
    assert theory.family == "constant" and dict(theory.params) == {"value": 1.0}
    assert theory.mean == 1.0 and theory.std == 0.0 and theory.support == (1.0, 1.0)
    assert theory.pdf is None and "point mass" in theory.invariant
    np.testing.assert_array_equal(theory.cdf(np.array([0.5, 1.0, 2.0])), [0.0, 1.0, 1.0])


def test_constant_scalar(ctx):
    arr = fill(mx.init.Constant(2.5), (2, 3), ctx)
    np.testing.assert_array_equal(arr.asnumpy(), np.full((2, 3), 2.5))
    assert mx.init.Constant(2.5).theory((2, 3)).check(arr) == 0.0
    as_int = fill(mx.init.Constant(2.5), (2,), ctx, dtype="int32")
    np.testing.assert_array_equal(as_int.asnumpy(), [2, 2])
    assert mx.init.Constant(2.5).theory((2,), "int32").params["value"] == 2.0


def test_constant_value_that_does_not_fit_the_dtype_changes_nothing():
    arr = mx.nd.full((3,), 5, dtype="int8")
    with pytest.raises(ValueError, match="cannot write 1000 into layer_weight"):
        mx.init.Constant(1000)(mx.init.InitDesc("layer_weight"), arr)
    np.testing.assert_array_equal(arr.asnumpy(), [5, 5, 5])


@pytest.mark.parametrize(
    "value",
    [
        mx.nd.array([[1, 2, 3], [4, 5, 6]]),
        mx.nd.array([[1, 2, 3], [4, 5, 6]], ctx=mx.cpu(1)),
        np.array([[1, 2, 3], [4, 5, 6]]),
        [[1, 2, 3], [4, 5, 6]],
    ],
    ids=["nd-cpu0", "nd-cpu1", "numpy", "list"],
)
def test_constant_array_value_on_any_context(value, ctx):
    arr = fill(mx.init.Constant(value), (2, 3), ctx)
    assert arr.context == ctx
    np.testing.assert_array_equal(arr.asnumpy(), [[1, 2, 3], [4, 5, 6]])
    theory = mx.init.Constant(value).theory((2, 3))
    assert theory.family == "constant" and theory.mean == 3.5
    assert theory.std == pytest.approx(np.std([1, 2, 3, 4, 5, 6]))
    assert theory.support == (1.0, 6.0)
    assert theory.check(arr) == 0.0
    np.testing.assert_allclose(theory.cdf(np.array([0.0, 3.0, 6.0])), [0.0, 0.5, 1.0])


def test_constant_array_broadcasts_and_refuses_what_does_not():
    arr = fill(mx.init.Constant(mx.nd.array([1, 2, 3])), (2, 3))
    np.testing.assert_array_equal(arr.asnumpy(), [[1, 2, 3], [1, 2, 3]])
    theory = mx.init.Constant([1, 2, 3]).theory((4, 3))
    assert theory.mean == 2.0
    bad = mx.nd.full((2, 4), 7.0)
    with pytest.raises(ValueError, match="value of shape \\(3,\\) cannot fill fc_weight"):
        mx.init.Constant([1, 2, 3])(mx.init.InitDesc("fc_weight"), bad)
    np.testing.assert_array_equal(bad.asnumpy(), np.full((2, 4), 7.0))
    with pytest.raises(ValueError, match="must broadcast"):
        mx.init.Constant([1, 2, 3]).theory((2, 4))


# --------------------------------------------------------------------------- Bilinear
def bilinear_reference(shape):
    """MXNet's element formula, element by element."""
    flat = np.zeros(int(np.prod(shape)), dtype="float32")
    f = math.ceil(shape[3] / 2.0)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    for i in range(flat.size):
        x = i % shape[3]
        y = (i // shape[3]) % shape[2]
        flat[i] = (1 - abs(x / f - c)) * (1 - abs(y / f - c))
    return flat.reshape(shape)


@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (1, 1, 5, 5), (3, 2, 3, 6), (2, 2, 1, 1)])
def test_bilinear_values_are_exact(shape, ctx):
    arr = fill(mx.init.Bilinear(), shape, ctx)
    expected = bilinear_reference(shape)
    np.testing.assert_array_equal(arr.asnumpy(), expected)
    theory = mx.init.Bilinear().theory(shape)
    assert theory.family == "bilinear" and theory.pdf is None
    assert theory.mean == pytest.approx(expected.astype(np.float64).mean(), rel=1e-12)
    assert theory.std == pytest.approx(expected.astype(np.float64).std(), rel=1e-9)
    assert theory.support == (float(expected.min()), float(expected.max()))
    assert theory.check(arr) == 0.0
    grid = np.unique(expected)
    empirical = np.searchsorted(np.sort(expected.ravel()), grid, side="right") / expected.size
    np.testing.assert_allclose(theory.cdf(grid), empirical, rtol=0, atol=1e-12)


def test_bilinear_float64_holds_mxnets_float32_values():
    arr = fill(mx.init.Bilinear(), (1, 1, 3, 3), dtype="float64")
    np.testing.assert_array_equal(arr.asnumpy(), bilinear_reference((1, 1, 3, 3)).astype("f8"))


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 4), (1, 1, 1, 4, 4)])
def test_bilinear_needs_4d_and_changes_nothing(shape):
    arr = mx.nd.full(shape, 7.0)
    with pytest.raises(ValueError, match=r"needs a 4-D weight .* for up_weight"):
        mx.init.Bilinear()(mx.init.InitDesc("up_weight"), arr)
    np.testing.assert_array_equal(arr.asnumpy(), np.full(shape, 7.0))


# --------------------------------------------------------------------------- LSTMBias
@pytest.mark.parametrize(("shape", "forget"), [((20,), 1.0), ((8, 3), 2.5), ((6,), -1.0)])
def test_lstm_bias_layout(shape, forget, ctx):
    arr = fill(mx.init.LSTMBias(forget), shape, ctx)
    n = shape[0] // 4
    expected = np.zeros(shape, np.float32)
    expected[n : 2 * n] = forget
    np.testing.assert_array_equal(arr.asnumpy(), expected)
    theory = mx.init.LSTMBias(forget).theory(shape)
    assert theory.family == "discrete" and theory.params["forget_rows"] == (n, 2 * n)
    assert theory.mean == pytest.approx(expected.mean())
    assert theory.std == pytest.approx(expected.astype(np.float64).std())
    assert theory.check(arr) == 0.0


def test_lstm_bias_on_a_scalar_refuses():
    arr = mx.nd.array(3.0).reshape(())
    with pytest.raises(ValueError, match="needs at least 1-D"):
        mx.init.LSTMBias()(mx.init.InitDesc("b_weight"), arr)


# --------------------------------------------------------------------------- FusedRNN
def fused_layout(num_input, h, layers, mode, bidirectional):
    """Independent statement of the fused-RNN layout: (name, start, shape) in order."""
    gates = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}[mode]
    names = {"lstm": "ifco", "gru": "rzo"}.get(mode, [""])
    dirs = ["l", "r"] if bidirectional else ["l"]
    out, p = [], 0
    for layer in range(layers):
        cols = num_input if layer == 0 else len(dirs) * h
        for d in dirs:
            for group, width in (("i2h", cols), ("h2h", h)):
                for g in range(gates):
                    gate = f"_{names[g]}" if names != [""] else ""
                    out.append((f"{d}{layer}_{group}{gate}_weight", p, (h, width)))
                    p += h * width
    for layer in range(layers):
        for d in dirs:
            for group in ("i2h", "h2h"):
                for g in range(gates):
                    gate = f"_{names[g]}" if names != [""] else ""
                    out.append((f"{d}{layer}_{group}{gate}_bias", p, (h,)))
                    p += h
    return out, p


CONFIGS = [
    (3, 4, 1, "lstm", False),
    (5, 2, 2, "lstm", True),
    (3, 4, 2, "gru", False),
    (2, 3, 1, "rnn_tanh", True),
    (4, 3, 3, "rnn_relu", False),
]


@pytest.mark.parametrize(("num_input", "h", "layers", "mode", "bidir"), CONFIGS)
def test_fused_rnn_layout_with_constant_weights(num_input, h, layers, mode, bidir, ctx):
    layout, total = fused_layout(num_input, h, layers, mode, bidir)
    init = mx.init.FusedRNN(mx.init.Constant(0.5), h, layers, mode, bidir, forget_bias=2.0)
    arr = fill(init, (total,), ctx, name="rnn_parameters_weight")
    values = arr.asnumpy()
    for name, start, shape in layout:
        piece = values[start : start + int(np.prod(shape))]
        if name.endswith("_weight"):
            expected = 0.5
        elif mode == "lstm" and name.endswith("_f_bias"):
            expected = 2.0
        else:
            expected = 0.0
        np.testing.assert_array_equal(piece, expected, err_msg=name)
    theory = init.theory((total,))
    assert theory.family == "none" and "each piece" in theory.invariant
    pieces = theory.params["pieces"]
    assert [(p[0], p[1], p[2]) for p in pieces] == layout
    for name, start, shape, law in pieces:
        piece = mx.nd.array(values[start : start + int(np.prod(shape))].reshape(shape))
        assert law.check(piece) == 0.0, name


def test_fused_rnn_random_pieces_follow_their_own_theories():
    _, total = fused_layout(50, 40, 1, "lstm", False)
    init = mx.init.FusedRNN(mx.init.Xavier(), 40, 1, "lstm")
    values = fill(init, (total,), name="rnn_parameters_weight").asnumpy()
    for name, start, shape, law in init.theory((total,)).params["pieces"]:
        piece = values[start : start + int(np.prod(shape))]
        assert law.support[0] <= piece.min() and piece.max() <= law.support[1], name
        if name.endswith("_weight"):
            assert law.family == "uniform" and piece.std() > 0.5 * law.std


def test_fused_rnn_falls_back_to_the_global_initializer(ctx):
    layout, total = fused_layout(3, 4, 1, "lstm", False)
    fused = mx.init.FusedRNN(None, 4, 1, "lstm", forget_bias=3.0)
    arr = mx.nd.zeros((total,), ctx=ctx)
    mx.init.One()(mx.init.InitDesc("rnn_parameters", attrs={"__init__": fused}), arr)
    values = arr.asnumpy()
    for name, start, shape in layout:
        piece = values[start : start + int(np.prod(shape))]
        expected = 1.0 if name.endswith("weight") else (3.0 if "_f_bias" in name else 0.0)
        np.testing.assert_array_equal(piece, expected, err_msg=name)
    assert fused.theory((total,)).params["pieces"][0][3] is None


def test_fused_rnn_errors_change_nothing():
    _, total = fused_layout(3, 4, 1, "lstm", False)
    arr = mx.nd.full((total + 1,), 7.0)
    with pytest.raises(ValueError, match="not the size of a fused lstm layer"):
        mx.init.FusedRNN(mx.init.One(), 4, 1, "lstm")(mx.init.InitDesc("p_weight"), arr)
    np.testing.assert_array_equal(arr.asnumpy(), 7.0)
    arr = mx.nd.full((total,), 7.0)
    with pytest.raises(ValueError, match="give FusedRNN an init="):
        mx.init.FusedRNN(None, 4, 1, "lstm")(mx.init.InitDesc("p_weight"), arr)
    np.testing.assert_array_equal(arr.asnumpy(), 7.0)
    ints = mx.nd.full((total,), 7, dtype="int32")
    with pytest.raises(mx.init.InitializerDtypeError):
        mx.init.FusedRNN(mx.init.Xavier(), 4, 1, "lstm")(mx.init.InitDesc("p_weight"), ints)
    np.testing.assert_array_equal(ints.asnumpy(), 7)


# --------------------------------------------------------------------------- Mixed
def test_mixed_uses_the_first_matching_pattern():
    init = mx.init.Mixed([".*bias", ".*"], [mx.init.Zero(), mx.init.Constant(2.0)])
    bias = fill(init, (3,), name="fc_bias")
    weight = fill(init, (3,), name="fc_weight")
    np.testing.assert_array_equal(bias.asnumpy(), 0.0)
    np.testing.assert_array_equal(weight.asnumpy(), 2.0)
    assert init.theory((3,)).family == "none"
    assert init.theory_for("fc_weight", (3,)).params["value"] == 2.0
    assert mx.init.Mixed(["w"], ["ones"]).theory_for("w", (2,)).params["value"] == 1.0


def test_mixed_passes_the_name_on_so_name_rules_apply():
    init = mx.init.Mixed([".*"], [mx.init.Constant(2.0)])
    arr = mx.nd.full((3,), 7.0)
    with pytest.warns(DeprecationWarning):
        init("fc_bias", arr)  # MXNet's legacy dispatch: a bias is 0 even under Constant(2)
    np.testing.assert_array_equal(arr.asnumpy(), 0.0)


def test_mixed_errors():
    init = mx.init.Mixed(["fc.*"], [mx.init.One()])
    arr = mx.nd.full((2,), 7.0)
    with pytest.raises(ValueError, match="conv_weight did not match any pattern"):
        init(mx.init.InitDesc("conv_weight"), arr)
    np.testing.assert_array_equal(arr.asnumpy(), 7.0)
    with pytest.raises(ValueError, match="same length"):
        mx.init.Mixed([".*", "b"], [mx.init.One()])
    with pytest.raises(ValueError, match="not a valid regular expression"):
        mx.init.Mixed(["("], [mx.init.One()])
    with pytest.raises(TypeError, match="Initializer or a callable"):
        mx.init.Mixed([".*"], [3])


# --------------------------------------------------------------------------- Load
def test_load_from_a_dict_strips_prefixes_and_falls_back(ctx):
    saved = {
        "arg:fc_weight": mx.nd.array([[1, 2], [3, 4]], ctx=mx.cpu(0)),
        "aux:bn_moving_var": mx.nd.array([5, 6]),
        "plain": np.array([7.0, 8.0]),
    }
    init = mx.init.Load(saved, default_init=mx.init.Constant(9.0))
    assert sorted(init.param) == ["bn_moving_var", "fc_weight", "plain"]
    w = fill(init, (2, 2), ctx, name="fc_weight")
    assert w.context == ctx
    np.testing.assert_array_equal(w.asnumpy(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(fill(init, (2,), ctx, name="bn_moving_var").asnumpy(), [5, 6])
    np.testing.assert_array_equal(fill(init, (2,), ctx, name="plain").asnumpy(), [7, 8])
    np.testing.assert_array_equal(fill(init, (3,), ctx, name="other_weight").asnumpy(), 9.0)
    theory = init.theory((2, 2))
    assert theory.family == "none" and "copied" in theory.invariant


def test_load_errors_change_nothing():
    init = mx.init.Load({"fc_weight": mx.nd.ones((2, 2))})
    arr = mx.nd.full((3, 2), 7.0)
    with pytest.raises(ValueError, match="shape mismatch, target \\(3, 2\\) vs loaded \\(2, 2\\)"):
        init(mx.init.InitDesc("fc_weight"), arr)
    np.testing.assert_array_equal(arr.asnumpy(), 7.0)
    with pytest.raises(ValueError, match=r"cannot initialize fc_bias.*no default_init"):
        init(mx.init.InitDesc("fc_bias"), arr)
    with pytest.raises(TypeError, match="dict of NDArrays or a file name"):
        mx.init.Load([("fc_weight", mx.nd.ones(2))])
    with pytest.raises(TypeError, match="must be an NDArray"):
        mx.init.Load({"fc_weight": [1, 2]})


def test_load_from_a_file(tmp_path):
    if not hasattr(mx.nd, "load") or not hasattr(mx.nd, "save"):
        with pytest.raises(RuntimeError, match=r"paramlab\.ndarray\.load is not available"):
            mx.init.Load(str(tmp_path / "missing.params"))
        pytest.skip("paramlab.ndarray.load / save are not available yet (mx.nd.load is pending)")
    path = str(tmp_path / "net.params")
    mx.nd.save(path, {"arg:fc_weight": mx.nd.array([[1, 2], [3, 4]])})
    init = mx.init.Load(path, default_init=mx.init.Zero())
    np.testing.assert_array_equal(fill(init, (2, 2), name="fc_weight").asnumpy(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(fill(init, (2,), name="fc_bias").asnumpy(), [0, 0])


def test_load_used_with_plain_names_warns_through_its_default():
    init = mx.init.Load({}, default_init=mx.init.One())
    arr = mx.nd.zeros((2,))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init("fc_weight", arr)
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    np.testing.assert_array_equal(arr.asnumpy(), 1.0)


# --------------------------------------------------------------------------- sparse targets
SPARSE_INITS = [
    mx.init.Zero(),
    mx.init.One(),
    mx.init.Constant(2.5),
    mx.init.Uniform(0.3),
    mx.init.Normal(0.2),
    mx.init.Xavier(),
    mx.init.MSRAPrelu(),
    mx.init.Orthogonal(),
]


@pytest.mark.parametrize("stype", ["row_sparse", "csr"])
@pytest.mark.parametrize("init", SPARSE_INITS, ids=lambda i: type(i).__name__)
def test_a_sparse_array_gets_every_value_a_dense_one_gets(init, stype, ctx):
    # MXNet fills sparse arrays through a dense one (storage fallback); so does paramlab
    values = {}
    for kind in ("default", stype):
        mx.random.seed(5)
        arr = (
            mx.nd.zeros((6, 4), ctx=ctx)
            if kind == "default"
            else mx.nd.sparse.zeros(stype, (6, 4), ctx=ctx)
        )
        before = arr.version
        init(mx.init.InitDesc("fc_weight"), arr)
        assert arr.stype == kind and arr.context == ctx and arr.version > before
        values[kind] = arr.asnumpy()
    np.testing.assert_array_equal(values[stype], values["default"])


def test_an_initializer_that_cannot_fill_a_sparse_array_changes_nothing():
    arr = mx.nd.sparse.row_sparse_array(
        (np.array([[1.0, 2.0]], np.float32), np.array([1])), shape=(3, 2)
    )
    snapshot = arr.asnumpy().copy()
    with pytest.raises(ValueError, match="Bilinear"):
        mx.init.Bilinear()(mx.init.InitDesc("up_weight"), arr)
    np.testing.assert_array_equal(arr.asnumpy(), snapshot)
    np.testing.assert_array_equal(arr.indices.asnumpy(), [1])
