"""mx.init against the reference MXNet 1.9.1: dumps() strings, exact deterministic values,
name dispatch, and the empirical bounds and spread of MXNet's random draws versus our theories."""

from __future__ import annotations

import math
import textwrap
import warnings

import numpy as np
import pytest

import paramlab as mx

pytestmark = pytest.mark.mxnet_ref

CONSTRUCTORS = [
    "Zero()",
    "One()",
    "Constant(2.5)",
    "Constant(-1)",
    "Uniform()",
    "Uniform(0.5)",
    "Normal()",
    "Normal(0.5)",
    "Orthogonal()",
    "Orthogonal(scale=2.0, rand_type='normal')",
    "Xavier()",
    "Xavier(factor_type='in', magnitude=2.34)",
    "Xavier(rnd_type='gaussian', factor_type='out')",
    "MSRAPrelu()",
    "MSRAPrelu(factor_type='in', slope=0.1)",
    "Bilinear()",
    "LSTMBias()",
    "LSTMBias(forget_bias=2.0)",
    "FusedRNN(None, 4, 2, 'lstm')",
    "FusedRNN(mx.init.Xavier(), 4, 2, 'gru', bidirectional=True, forget_bias=0.5)",
]


def test_dumps_strings_match_mxnet(mxnet_ref):
    theirs = mxnet_ref(
        f"""
        import json, mxnet as mx
        out = [eval('mx.init.' + c).dumps() for c in {CONSTRUCTORS!r}]
        out.append(mx.init.Constant(mx.nd.array([[1, 2], [3, 4]])).dumps())
        print(json.dumps(out))
        """
    )
    ours = [eval("mx.init." + c).dumps() for c in CONSTRUCTORS]
    ours.append(mx.init.Constant(mx.nd.array([[1, 2], [3, 4]])).dumps())
    assert ours == theirs


DETERMINISTIC = [
    ("Zero()", (3, 4)),
    ("One()", (3, 4)),
    ("Constant(2.5)", (2, 5)),
    ("Constant(mx.nd.array([1, 2, 3]))", (2, 3)),
    ("Bilinear()", (2, 3, 4, 4)),
    ("Bilinear()", (1, 1, 5, 5)),
    ("Bilinear()", (3, 2, 3, 6)),
    ("Bilinear()", (1, 2, 7, 2)),
    ("LSTMBias()", (20,)),
    ("LSTMBias(forget_bias=2.5)", (8, 3)),
    ("LSTMBias(-1.0)", (6,)),
    ("FusedRNN(mx.init.One(), 4, 1, 'lstm')", (176,)),
    ("FusedRNN(mx.init.Constant(0.5), 2, 2, 'lstm', True, 3.0)", (224,)),
    ("FusedRNN(mx.init.One(), 3, 2, 'gru')", (180,)),
    ("FusedRNN(mx.init.One(), 3, 1, 'rnn_tanh', True)", (48,)),
]


def test_deterministic_initializers_equal_mxnet_exactly(mxnet_ref):
    theirs = mxnet_ref(
        f"""
        import json, mxnet as mx
        out = []
        for ctor, shape in {DETERMINISTIC!r}:
            arr = mx.nd.full(shape, 7.0)
            eval('mx.init.' + ctor)(mx.init.InitDesc('layer_weight'), arr)
            out.append(arr.asnumpy().tolist())
        print(json.dumps(out))
        """
    )
    for (ctor, shape), expected in zip(DETERMINISTIC, theirs):
        arr = mx.nd.full(shape, 7.0)
        eval("mx.init." + ctor)(mx.init.InitDesc("layer_weight"), arr)
        np.testing.assert_array_equal(arr.asnumpy(), np.asarray(expected, np.float32), ctor)


def test_fused_rnn_through_the_global_initializer_equals_mxnet(mxnet_ref):
    code = textwrap.dedent(
        """
        arr = mx.nd.full((224,), 7.0)
        fused = mx.init.FusedRNN(None, 2, 2, 'lstm', True, 3.0)
        mx.init.One()(mx.init.InitDesc('rnn_parameters', attrs={'__init__': fused}), arr)
        """
    )
    theirs = mxnet_ref(
        "import json, mxnet as mx\n" + code + "\nprint(json.dumps(arr.asnumpy().tolist()))"
    )
    scope = {"mx": mx}
    exec(code, scope)
    np.testing.assert_array_equal(scope["arr"].asnumpy(), np.asarray(theirs, np.float32))


NAMES = [
    "fc_weight", "fc_bias", "bn_gamma", "bn_beta", "q_min", "q_max", "bn_running_mean",
    "bn_moving_var", "bn_moving_mean", "bn_moving_inv_var", "bn_moving_avg", "upsampling0_weight",
    "stn_loc_weight", "stn_loc_bias", "weird",
]  # fmt: skip


def _dispatch(module, legacy):
    results = []
    for name in NAMES:
        arr = module.nd.full((1, 1, 2, 3) if name.startswith("upsampling") else (6,), 7.0)
        desc = name if legacy else module.init.InitDesc(name)
        try:
            module.init.Constant(3.0)(desc, arr)
            results.append(arr.asnumpy().ravel().tolist())
        except ValueError:
            results.append("ValueError")
    return results


@pytest.mark.parametrize("legacy", [False, True], ids=["initdesc", "legacy-str"])
def test_name_dispatch_equals_mxnet(mxnet_ref, legacy):
    theirs = mxnet_ref(
        f"""
        import json, warnings, mxnet as mx
        warnings.simplefilter('ignore')
        NAMES = {NAMES!r}
        results = []
        for name in NAMES:
            arr = mx.nd.full((1, 1, 2, 3) if name.startswith('upsampling') else (6,), 7.0)
            desc = name if {legacy!r} else mx.init.InitDesc(name)
            try:
                mx.init.Constant(3.0)(desc, arr)
                results.append(arr.asnumpy().ravel().tolist())
            except ValueError:
                results.append('ValueError')
        print(json.dumps(results))
        """
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ours = _dispatch(mx, legacy)
    assert ours == theirs


def test_init_attribute_path_equals_mxnet(mxnet_ref):
    cases = [("dense0_bias", "ones"), ("running_mean", '["constant", {"value": 4.0}]'),
             ("fc_weight", "zeros"), ("lstm_i2h_bias", "lstmbias")]  # fmt: skip
    code = textwrap.dedent(
        f"""
        out = []
        for name, chosen in {cases!r}:
            arr = mx.nd.full((8,), 7.0)
            mx.init.Uniform()(mx.init.InitDesc(name, attrs={{'__init__': chosen}}), arr)
            out.append(arr.asnumpy().tolist())
        """
    )
    theirs = mxnet_ref("import json, mxnet as mx\n" + code + "\nprint(json.dumps(out))")
    scope = {"mx": mx}
    exec(code, scope)
    assert scope["out"] == theirs


RANDOM = [
    ("Uniform()", (1000, 1000)),
    ("Uniform(0.5)", (1000, 1000)),
    ("Normal()", (1000, 1000)),
    ("Normal(0.5)", (1000, 1000)),
    ("Xavier()", (256, 512)),
    ("Xavier()", (1000, 1000)),
    ("Xavier(factor_type='in', magnitude=2.34)", (64, 32, 3, 3)),
    ("Xavier(rnd_type='gaussian', factor_type='out')", (512, 256)),
    ("MSRAPrelu()", (128, 64, 3, 3)),
    ("MSRAPrelu(factor_type='in', slope=0.1)", (1000, 500)),
    ("Orthogonal()", (300, 500)),
    ("Orthogonal(scale=2.0, rand_type='normal')", (500, 30, 2)),
]


def test_mxnets_random_draws_agree_with_our_theories(mxnet_ref):
    theirs = mxnet_ref(
        f"""
        import json, numpy as np, mxnet as mx
        mx.random.seed(0)
        out = []
        for ctor, shape in {RANDOM!r}:
            arr = mx.nd.zeros(shape)
            eval('mx.init.' + ctor)(mx.init.InitDesc('layer_weight'), arr)
            x = arr.asnumpy().astype(np.float64)
            w = x.reshape(shape[0], -1)
            gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
            out.append({{'max': float(np.abs(x).max()), 'std': float(x.std()),
                         'mean': float(x.mean()), 'gram': gram.diagonal().mean(),
                         'offdiag': float(np.abs(gram - np.diag(gram.diagonal())).max())}})
        print(json.dumps(out))
        """
    )
    for (ctor, shape), stats in zip(RANDOM, theirs):
        theory = eval("mx.init." + ctor).theory(shape)
        n = math.prod(shape)
        assert stats["std"] == pytest.approx(theory.std, rel=0.02), ctor
        assert abs(stats["mean"] - theory.mean) < 5 * theory.std / math.sqrt(n), ctor
        if theory.family in ("uniform", "orthogonal"):
            assert stats["max"] <= theory.support[1] * (1 + 1e-6), ctor
        if theory.family == "uniform":
            assert stats["max"] >= 0.999 * theory.params["high"], ctor
        if theory.family == "orthogonal":
            scale = theory.params["scale"]
            assert stats["gram"] == pytest.approx(scale**2, rel=1e-4), ctor
            assert stats["offdiag"] < 1e-4 * scale**2, ctor


def test_xavier_on_a_vector_and_integer_dtype_fail_in_both(mxnet_ref):
    theirs = mxnet_ref(
        """
        import json, mxnet as mx
        out = []
        try:
            mx.init.Xavier()(mx.init.InitDesc('fc_weight'), mx.nd.zeros((5,)))
        except ValueError as e:
            out.append('cannot be applied to vector' in str(e))
        try:
            a = mx.nd.zeros((5, 5), dtype='int32')
            mx.init.Uniform()(mx.init.InitDesc('fc_weight'), a)
            a.wait_to_read()
        except mx.base.MXNetError as e:
            out.append('float16, float32, float64' in str(e))
        print(json.dumps(out))
        """
    )
    assert theirs == [True, True]
    with pytest.raises(ValueError, match="cannot be applied to vector"):
        mx.init.Xavier()(mx.init.InitDesc("fc_weight"), mx.nd.zeros((5,)))
    with pytest.raises(mx.MXNetError, match="float16, float32 or float64"):
        mx.init.Uniform()(mx.init.InitDesc("fc_weight"), mx.nd.zeros((5, 5), dtype="int32"))
