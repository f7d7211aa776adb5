"""mx.init: the registry, create/dumps round trips, InitDesc, name dispatch and the hooks."""

from __future__ import annotations

import json
import logging
import math
import warnings

import numpy as np
import pytest

import paramlab as mx
from paramlab.initializer import _registry

ALL_INITIALIZERS = [
    (mx.init.Zero(), '["zero", {}]'),
    (mx.init.One(), '["one", {}]'),
    (mx.init.Constant(2.5), '["constant", {"value": 2.5}]'),
    (mx.init.Constant([[1.0, 2.0]]), '["constant", {"value": [[1.0, 2.0]]}]'),
    (mx.init.Uniform(), '["uniform", {"scale": 0.07}]'),
    (mx.init.Uniform(0.5), '["uniform", {"scale": 0.5}]'),
    (mx.init.Normal(), '["normal", {"sigma": 0.01}]'),
    (mx.init.Normal(0.5), '["normal", {"sigma": 0.5}]'),
    (mx.init.Orthogonal(), '["orthogonal", {"scale": 1.414, "rand_type": "uniform"}]'),
    (
        mx.init.Orthogonal(2.0, "normal"),
        '["orthogonal", {"scale": 2.0, "rand_type": "normal"}]',
    ),
    (
        mx.init.Xavier(),
        '["xavier", {"rnd_type": "uniform", "factor_type": "avg", "magnitude": 3}]',
    ),
    (
        mx.init.Xavier(factor_type="in", magnitude=2.34),
        '["xavier", {"rnd_type": "uniform", "factor_type": "in", "magnitude": 2.34}]',
    ),
    (mx.init.MSRAPrelu(), '["msraprelu", {"factor_type": "avg", "slope": 0.25}]'),
    (mx.init.MSRAPrelu("out", 0.0), '["msraprelu", {"factor_type": "out", "slope": 0.0}]'),
    (mx.init.Bilinear(), '["bilinear", {}]'),
    (mx.init.LSTMBias(), '["lstmbias", {"forget_bias": 1.0}]'),
    (
        mx.init.FusedRNN(None, 4, 2, "lstm"),
        '["fusedrnn", {"init": null, "num_hidden": 4, "num_layers": 2, "mode": "lstm", '
        '"bidirectional": false, "forget_bias": 1.0}]',
    ),
    (
        mx.init.FusedRNN(mx.init.Xavier(), 4, 2, "lstm"),
        '["fusedrnn", {"init": "[\\"xavier\\", {\\"rnd_type\\": \\"uniform\\", '
        '\\"factor_type\\": \\"avg\\", \\"magnitude\\": 3}]", "num_hidden": 4, "num_layers": 2, '
        '"mode": "lstm", "bidirectional": false, "forget_bias": 1.0}]',
    ),
]
IDS = [d.split(",")[0].strip('["') for _, d in ALL_INITIALIZERS]


@pytest.fixture
def clean_registry():
    """Restore the registry after a test that registers classes."""
    saved = dict(_registry._REGISTRY)
    yield
    _registry._REGISTRY.clear()
    _registry._REGISTRY.update(saved)


# --------------------------------------------------------------------------- dumps / create
@pytest.mark.parametrize(("init", "expected"), ALL_INITIALIZERS, ids=IDS)
def test_dumps_is_mxnets_json(init, expected):
    assert init.dumps() == expected


@pytest.mark.parametrize(("init", "expected"), ALL_INITIALIZERS, ids=IDS)
def test_create_round_trips_every_initializer(init, expected):
    again = mx.init.create(init.dumps())
    assert type(again) is type(init)
    assert again == init
    assert again.dumps() == expected
    assert mx.init.create(again) is again


def test_dumps_converts_array_values_without_changing_the_initializer():
    value = mx.nd.array([[1, 2], [3, 4]])
    init = mx.init.Constant(value)
    assert init.dumps() == '["constant", {"value": [[1.0, 2.0], [3.0, 4.0]]}]'
    assert init.value is value
    assert mx.init.Constant(np.array([0.5, 1.5])).dumps() == '["constant", {"value": [0.5, 1.5]}]'
    assert mx.init.Constant(np.float32(2.5)).dumps() == '["constant", {"value": 2.5}]'


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("zero", mx.init.Zero),
        ("zeros", mx.init.Zero),
        ("ZEROS", mx.init.Zero),
        ("one", mx.init.One),
        ("ones", mx.init.One),
        ("uniform", mx.init.Uniform),
        ("normal", mx.init.Normal),
        ("orthogonal", mx.init.Orthogonal),
        ("xavier", mx.init.Xavier),
        ("Xavier", mx.init.Xavier),
        ("msraprelu", mx.init.MSRAPrelu),
        ("MSRAPrelu", mx.init.MSRAPrelu),
        ("bilinear", mx.init.Bilinear),
        ("lstmbias", mx.init.LSTMBias),
    ],
)
def test_create_by_name_is_case_insensitive(name, cls):
    init = mx.init.create(name)
    assert type(init) is cls
    assert init == cls()


def test_registered_names_are_mxnets():
    names = set(mx.init.registered())
    assert {
        "zero", "zeros", "one", "ones", "constant", "uniform", "normal", "orthogonal",
        "xavier", "msraprelu", "bilinear", "lstmbias", "fusedrnn",
    } <= names  # fmt: skip


def test_create_from_json_object_dict_and_keyword():
    assert mx.init.create('{"initializer": "normal", "sigma": 0.5}') == mx.init.Normal(0.5)
    assert mx.init.create({"initializer": "xavier", "magnitude": 2}) == mx.init.Xavier(magnitude=2)
    assert mx.init.create(initializer="uniform", scale=0.3) == mx.init.Uniform(0.3)
    assert mx.init.create("constant", 2.5) == mx.init.Constant(2.5)
    assert mx.init.create("constant", value=1) == mx.init.Constant(1)


def test_fusedrnn_round_trips_through_json_with_an_inner_initializer():
    # MXNet 1.9.1 fails here (KeyError in FusedRNN.__init__); paramlab reads its own dumps().
    init = mx.init.FusedRNN(mx.init.Normal(0.3), 3, 1, "gru", bidirectional=True)
    again = mx.init.create(init.dumps())
    assert again == init
    assert again._init == mx.init.Normal(0.3)
    assert mx.init.FusedRNN("xavier", 3, 1, "gru")._init == mx.init.Xavier()


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        ("nosuchinit", ValueError, "nosuchinit is not registered"),
        ('["nosuchinit", {}]', ValueError, "nosuchinit is not registered"),
        ("constant", TypeError, "constant"),
        (5, TypeError, "must be an Initializer, a registered name"),
        (None, TypeError, "NoneType"),
        ("[not json", ValueError, "not valid JSON"),
        ('["xavier"]', ValueError, 'JSON pair \\["name"'),
        ('{"sigma": 0.5}', ValueError, "with the key 'initializer'"),
        ({"sigma": 0.5}, ValueError, "needs the key 'initializer'"),
        ('["xavier", {"nonsense": 1}]', TypeError, "cannot build initializer 'xavier'"),
        ('["xavier", {"factor_type": "wide"}]', ValueError, "Incorrect factor type"),
    ],
)
def test_create_errors_are_clear(spec, error, match):
    with pytest.raises(error, match=match):
        mx.init.create(spec)


def test_unknown_name_is_both_value_error_and_key_error():
    with pytest.raises(KeyError) as info:
        mx.init.create("nosuchinit")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, mx.init.UnknownInitializerError)
    assert str(info.value).startswith("nosuchinit is not registered")
    assert "xavier" in str(info.value)


def test_create_refuses_extra_arguments_for_an_instance_or_json():
    with pytest.raises(ValueError, match="already an instance"):
        mx.init.create(mx.init.Zero(), 1)
    with pytest.raises(ValueError, match="already holds the arguments"):
        mx.init.create('["normal", {}]', sigma=1.0)


def test_create_requires_something():
    with pytest.raises(TypeError, match="got nothing"):
        mx.init.create()


# --------------------------------------------------------------------------- registry
def test_register_and_alias_make_a_user_class_creatable(clean_registry):
    @mx.init.register
    @mx.init.alias("sevens", "SEVENS_TOO")
    class SevenInit(mx.init.Initializer):
        def __init__(self, value=7):
            super().__init__(value=value)
            self.value = value

        def _init_weight(self, name, data):
            data[:] = self.value

    for name in ("seveninit", "SevenInit", "sevens", "sevens_too"):
        assert type(mx.init.create(name)) is SevenInit
    init = mx.init.create('["seveninit", {"value": 3}]')
    assert init.dumps() == '["seveninit", {"value": 3}]'
    arr = mx.nd.zeros((2, 2))
    mx.init.Uniform()(mx.init.InitDesc("anything", attrs={"__init__": "sevens"}), arr)
    np.testing.assert_array_equal(arr.asnumpy(), np.full((2, 2), 7.0))


def test_reregistering_a_name_warns_and_overrides(clean_registry):
    @mx.init.register
    class Twice(mx.init.Initializer):
        pass

    with pytest.warns(UserWarning, match="overriding existing initializer"):

        @mx.init.register
        class Twice(mx.init.Initializer):
            marker = True

    assert mx.init.create("twice").marker is True
    with pytest.warns(UserWarning, match="registered with name zeros"):
        mx.init.alias("zeros")(mx.init.One)
    assert type(mx.init.create("zeros")) is mx.init.One


def test_register_refuses_non_initializers():
    with pytest.raises(TypeError, match=r"subclasses of mx\.init\.Initializer"):
        mx.init.register(dict)
    with pytest.raises(TypeError, match=r"subclasses of mx\.init\.Initializer"):
        mx.init.register(mx.init.Zero())
    with pytest.raises(TypeError, match="non-empty strings"):
        mx.init.alias("")


def test_d2l_style_user_initializer_registered_and_used_by_name(clean_registry, ctx):
    @mx.init.register
    class MyInit(mx.init.Initializer):
        def _init_weight(self, name, data):
            data[:] = mx.nd.random.uniform(low=-10, high=10, shape=data.shape)
            data *= data.abs() >= 5

    arr = mx.nd.zeros((20, 30), ctx=ctx)
    version = arr.version
    default = mx.init.create(mx.init.Uniform())
    default(mx.init.InitDesc("dense0_weight", attrs={"__init__": "myinit"}), arr)
    values = arr.asnumpy()
    assert arr.version > version
    assert np.all((values == 0) | (np.abs(values) >= 5))
    assert np.all(np.abs(values) <= 10)
    assert (values != 0).mean() > 0.3
    # Used directly, the same class dispatches on the name.
    bias = mx.nd.ones((5,), ctx=ctx)
    MyInit()(mx.init.InitDesc("dense0_bias"), bias)
    np.testing.assert_array_equal(bias.asnumpy(), np.zeros(5))


# --------------------------------------------------------------------------- equality, repr
def test_equality_compares_class_and_arguments():
    assert mx.init.Xavier() == mx.init.Xavier(magnitude=3.0)
    assert mx.init.Xavier() != mx.init.Xavier("gaussian")
    assert mx.init.Zero() != mx.init.One()
    assert mx.init.Constant(mx.nd.array([1, 2])) == mx.init.Constant([1.0, 2.0])
    assert mx.init.Constant(1.0) != mx.init.Constant(2.0)
    assert mx.init.Uniform() != "uniform"
    with pytest.raises(TypeError):
        hash(mx.init.Uniform())


def test_repr_shows_the_arguments():
    assert repr(mx.init.Normal(0.5)) == "Normal(sigma=0.5)"
    assert repr(mx.init.Zero()) == "Zero()"


@pytest.mark.parametrize(
    ("factory", "error", "match"),
    [
        (lambda: mx.init.Uniform(-1), ValueError, "scale must be >= 0.0"),
        (lambda: mx.init.Uniform("big"), TypeError, "scale must be a real number"),
        (lambda: mx.init.Normal(-0.1), ValueError, "sigma must be >= 0.0"),
        (lambda: mx.init.Xavier("cauchy"), ValueError, "Unknown random type"),
        (lambda: mx.init.Xavier(factor_type="sum"), ValueError, "Incorrect factor type"),
        (lambda: mx.init.Xavier(magnitude=-3), ValueError, "magnitude must be >= 0.0"),
        (lambda: mx.init.MSRAPrelu("wide"), ValueError, "Incorrect factor type"),
        (lambda: mx.init.Orthogonal(rand_type="gaussian"), ValueError, "Unknown random type"),
        (lambda: mx.init.Constant("two"), TypeError, "value must be a number"),
        (lambda: mx.init.LSTMBias(None), TypeError, "forget_bias must be a real number"),
        (lambda: mx.init.FusedRNN(None, 4, 1, "transformer"), ValueError, "mode must be one"),
        (lambda: mx.init.FusedRNN(None, 0, 1, "lstm"), ValueError, "num_hidden must be a"),
    ],
)
def test_constructors_validate_their_arguments(factory, error, match):
    with pytest.raises(error, match=match):
        factory()


# --------------------------------------------------------------------------- InitDesc
def test_initdesc_is_a_str_with_attrs_and_global_init():
    desc = mx.init.InitDesc("fc_weight")
    assert isinstance(desc, str) and desc == "fc_weight"
    assert desc.attrs == {} and desc.global_init is None
    attrs = {"__init__": "zeros"}
    assert mx.init.InitDesc("w", attrs=attrs).attrs is attrs
    with pytest.raises(TypeError, match="name must be a str"):
        mx.init.InitDesc(3)
    with pytest.raises(TypeError, match="attrs must be a dict"):
        mx.init.InitDesc("w", attrs=["__init__"])


def test_call_sets_global_init_only_when_missing():
    init, other = mx.init.Zero(), mx.init.One()
    desc = mx.init.InitDesc("fc_weight")
    init(desc, mx.nd.ones((2,)))
    assert desc.global_init is init
    desc2 = mx.init.InitDesc("fc_weight", global_init=other)
    init(desc2, mx.nd.ones((2,)))
    assert desc2.global_init is other


# --------------------------------------------------------------------------- name dispatch
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dense0_weight", 3.0),
        ("dense0_bias", 0.0),
        ("batchnorm0_gamma", 1.0),
        ("batchnorm0_beta", 0.0),
        ("quant_min", 0.0),
        ("quant_max", 1.0),
        ("weight", 3.0),
        ("upsampling0_weight", 3.0),  # the upsampling rule is legacy only
    ],
)
def test_initdesc_name_dispatch_table(name, expected, ctx):
    arr = mx.nd.full((2, 3), 7.0, ctx=ctx)
    mx.init.Constant(3.0)(mx.init.InitDesc(name), arr)
    np.testing.assert_array_equal(arr.asnumpy(), np.full((2, 3), expected))


@pytest.mark.parametrize(
    "name", ["batchnorm0_running_mean", "batchnorm0_running_var", "moving_var", "w", "fc_inv"]
)
def test_unknown_pattern_raises_and_changes_nothing(name):
    arr = mx.nd.full((2, 3), 7.0)
    version = arr.version
    with pytest.raises(ValueError, match=f"Unknown initialization pattern for {name}"):
        mx.init.Uniform()(mx.init.InitDesc(name), arr)
    np.testing.assert_array_equal(arr.asnumpy(), np.full((2, 3), 7.0))
    assert arr.version == version


def test_quantize_suffixes():
    w = mx.nd.zeros((64, 64), dtype="int8")
    mx.init.Uniform()(mx.init.InitDesc("conv_weight_quantize"), w)
    values = w.asnumpy()
    assert values.min() >= -127 and values.max() < 127
    assert len(np.unique(values)) > 100
    b = mx.nd.ones((4,), dtype="int8")
    mx.init.Uniform()(mx.init.InitDesc("conv_bias_quantize"), b)
    np.testing.assert_array_equal(b.asnumpy(), np.zeros(4))


def _legacy(init, name, arr):
    with pytest.warns(DeprecationWarning, match="deprecated"):
        init(name, arr)
    return arr.asnumpy()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("fc_weight", 3.0),
        ("fc_bias", 0.0),
        ("bn_gamma", 1.0),
        ("bn_beta", 0.0),
        ("bn_moving_mean", 0.0),
        ("bn_moving_var", 1.0),
        ("bn_moving_inv_var", 0.0),
        ("bn_moving_avg", 0.0),
        ("q_min", 0.0),
        ("q_max", 1.0),
        ("stn_loc_weight", 0.0),
    ],
)
def test_legacy_str_names_warn_and_use_the_legacy_rows(name, expected):
    arr = mx.nd.full((6,), 7.0)
    values = _legacy(mx.init.Constant(3.0), name, arr)
    np.testing.assert_array_equal(values, np.full(6, expected))


def test_legacy_special_names():
    loc = _legacy(mx.init.Zero(), "stn_loc_bias", mx.nd.full((6,), 7.0))
    np.testing.assert_array_equal(loc, [1, 0, 0, 0, 1, 0])
    up = _legacy(mx.init.Zero(), "upsampling0_weight", mx.nd.zeros((1, 1, 4, 4)))
    np.testing.assert_allclose(up[0, 0, 1], [0.1875, 0.5625, 0.5625, 0.1875])
    with pytest.raises(ValueError, match="must have shape \\(6,\\)"):
        _legacy(mx.init.Zero(), "stn_loc_bias", mx.nd.zeros((4,)))
    arr = mx.nd.full((3,), 7.0)
    with pytest.raises(ValueError, match="Unknown initialization pattern for running_mean"):
        _legacy(mx.init.Zero(), "running_mean", arr)
    np.testing.assert_array_equal(arr.asnumpy(), np.full(3, 7.0))


def test_legacy_call_checks_its_arguments():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(TypeError, match="name must be a str"):
            mx.init.Zero()(3, mx.nd.zeros((2,)))
        with pytest.raises(TypeError, match="must be an NDArray"):
            mx.init.Zero()("fc_weight", np.zeros(2))


def test_name_rules_is_one_table():
    rules = mx.init.NAME_RULES
    assert ("", "weight", "_init_weight", "both") in rules
    assert all(hasattr(mx.init.Initializer, hook) for _, _, hook, _ in rules)


# --------------------------------------------------------------------------- __init__ attribute
@pytest.mark.parametrize(
    "chosen",
    [mx.init.Constant(4.0), "ones", "One", '["constant", {"value": 4.0}]', {"initializer": "one"}],
    ids=["instance", "name", "Name", "json", "dict"],
)
def test_init_attribute_fills_with_the_chosen_weight_rule_ignoring_the_name(chosen, ctx):
    expected = 4.0 if "4.0" in repr(chosen) else 1.0
    for name in ("dense0_bias", "dense0_weight", "running_mean", "anything"):
        arr = mx.nd.zeros((3, 2), ctx=ctx)
        desc = mx.init.InitDesc(name, attrs={"__init__": chosen})
        mx.init.create(mx.init.Uniform())(desc, arr)
        np.testing.assert_array_equal(arr.asnumpy(), np.full((3, 2), expected))


def test_parameter_style_call_with_the_default_uniform(ctx):
    """What gluon.Parameter does: one buffer, create(default_init)(InitDesc(name, attrs), arr)."""
    arr = mx.nd.zeros((50, 40), ctx=ctx)
    version = arr.version
    default_init = mx.init.Uniform()
    desc = mx.init.InitDesc("dense0_weight", attrs={"__init__": default_init})
    mx.init.create(default_init)(desc, arr)
    values = arr.asnumpy()
    assert arr.version > version
    assert np.abs(values).max() <= 0.07 and values.std() > 0.03
    # And with an initializer given by name or JSON for a bias-named parameter.
    bias = mx.nd.zeros((40,), ctx=ctx)
    desc = mx.init.InitDesc("dense0_bias", attrs={"__init__": mx.init.Normal(0.2).dumps()})
    mx.init.create("uniform")(desc, bias)
    assert 0.1 < bias.asnumpy().std() < 0.3


def test_init_attribute_with_an_unknown_name_changes_nothing():
    arr = mx.nd.full((2,), 5.0)
    with pytest.raises(ValueError, match="nope is not registered"):
        mx.init.Uniform()(mx.init.InitDesc("w", attrs={"__init__": "nope"}), arr)
    np.testing.assert_array_equal(arr.asnumpy(), [5.0, 5.0])


def test_call_refuses_non_ndarrays():
    raw = np.zeros(3)
    with pytest.raises(TypeError, match="must be an NDArray, got ndarray"):
        mx.init.One()(mx.init.InitDesc("fc_weight"), raw)
    np.testing.assert_array_equal(raw, np.zeros(3))


# --------------------------------------------------------------------------- hooks
def test_every_hook_is_overridable():
    calls = []

    class Recorder(mx.init.Initializer):
        def _init_weight(self, name, arr):
            calls.append(("weight", str(name)))

        def _init_bias(self, name, arr):
            calls.append(("bias", str(name)))

        def _init_gamma(self, name, arr):
            calls.append(("gamma", str(name)))

        def _init_beta(self, name, arr):
            calls.append(("beta", str(name)))

        def _init_zero(self, name, arr):
            calls.append(("zero", str(name)))

        def _init_one(self, name, arr):
            calls.append(("one", str(name)))

        def _init_default(self, name, arr):
            calls.append(("default", str(name)))

    init, arr = Recorder(), mx.nd.zeros((2,))
    for name in ("a_weight", "a_bias", "a_gamma", "a_beta", "a_min", "a_max", "a_running_mean"):
        init(mx.init.InitDesc(name), arr)
    assert calls == [
        ("weight", "a_weight"),
        ("bias", "a_bias"),
        ("gamma", "a_gamma"),
        ("beta", "a_beta"),
        ("zero", "a_min"),
        ("one", "a_max"),
        ("default", "a_running_mean"),
    ]


def test_base_initializer_must_be_overridden():
    with pytest.raises(NotImplementedError, match="must override _init_weight"):
        mx.init.Initializer()(mx.init.InitDesc("fc_weight"), mx.nd.zeros((2,)))


def test_user_class_without_super_init_still_dumps_and_compares():
    class Bare(mx.init.Initializer):
        def __init__(self):
            pass

        def _init_weight(self, name, arr):
            arr[:] = 2

    assert Bare().dumps() == '["bare", {}]'
    assert Bare() == Bare()
    arr = mx.nd.zeros((2,))
    Bare()(mx.init.InitDesc("w_weight"), arr)
    assert arr.asnumpy().tolist() == [2.0, 2.0]
    assert Bare().theory((2,)).family == "none"


# --------------------------------------------------------------------------- verbosity
def test_set_verbosity_logs_a_statistic(caplog):
    init = mx.init.One().set_verbosity(True)
    with caplog.at_level(logging.INFO):
        init(mx.init.InitDesc("fc_weight"), mx.nd.zeros((4,)))
    assert "Initialized fc_weight as weight: 1.0" in caplog.text
    custom = mx.init.Zero().set_verbosity(True, print_func=lambda x: "custom-stat")
    with caplog.at_level(logging.INFO):
        custom(mx.init.InitDesc("fc_bias"), mx.nd.zeros((4,)))
    assert "Initialized fc_bias as bias: custom-stat" in caplog.text
    quiet = mx.init.One().set_verbosity(False)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        quiet(mx.init.InitDesc("fc_weight"), mx.nd.zeros((4,)))
    assert caplog.text == ""
    with pytest.raises(TypeError, match="print_func must be callable"):
        mx.init.One().set_verbosity(True, print_func="mean")


def test_module_is_exposed_under_both_names():
    assert mx.init is mx.initializer
    assert "init" in mx.__all__ and "initializer" in mx.__all__
    assert json.loads(mx.init.Normal(0.5).dumps()) == ["normal", {"sigma": 0.5}]
    assert math.isclose(mx.init.Normal(0.5).theory((2,)).std, 0.5)
