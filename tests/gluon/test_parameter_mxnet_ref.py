"""Parameter and autograd behaviour compared with the reference MXNet 1.9.1."""

from __future__ import annotations

import numpy as np
import pytest

import paramlab as mx
from paramlab import autograd, gluon, init, nd
from paramlab.gluon import nn

pytestmark = pytest.mark.mxnet_ref

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)
Y = np.array([1, 0], dtype=np.float32)


def test_parameter_life_cycle_matches(mxnet_ref):
    ref = mxnet_ref("""
        import json, warnings, numpy as np, mxnet as mx
        from mxnet import gluon
        out = {}
        p = gluon.Parameter('fc_weight', shape=(2, 3), init=mx.init.Constant(0.5), lr_mult=2)
        out['repr'] = repr(p)
        p.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
        out['data'] = [d.asnumpy().tolist() for d in p.list_data()]
        p.set_data(mx.nd.array(np.arange(6).reshape(2, 3), dtype='float64'))
        out['after_set'] = p.data(mx.cpu(1)).asnumpy().tolist()
        out['set_dtype'] = str(p.data(mx.cpu(1)).dtype)
        p.list_data()[1][:] = 4
        p.reset_ctx([mx.cpu(2)])
        out['reset'] = p.data().asnumpy().tolist()
        p.grad()[:] = 3
        p.grad_req = 'add'
        out['grad_after_switch'] = p.grad().asnumpy().tolist()
        p.cast('float16')
        out['cast'] = [str(p.data().dtype), str(p.grad().dtype)]
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            p.initialize(ctx=mx.cpu(2))
            out['warn'] = str(w[0].message)
        v = gluon.Parameter('v', shape=(4, 0), lr_mult=3).var()
        out['var'] = v.list_attr()
        c = gluon.Constant('c', [[1, 2], [3, 4]])
        c.initialize()
        out['const'] = [c.data().asnumpy().tolist(), str(c.dtype), c.grad_req]
        print(json.dumps(out))
    """)
    p = gluon.Parameter("fc_weight", shape=(2, 3), init=init.Constant(0.5), lr_mult=2)
    assert repr(p) == ref["repr"]
    p.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    assert [d.asnumpy().tolist() for d in p.list_data()] == ref["data"]
    p.set_data(nd.array(np.arange(6).reshape(2, 3), dtype="float64"))
    assert p.data(mx.cpu(1)).asnumpy().tolist() == ref["after_set"]
    assert np.dtype(p.data(mx.cpu(1)).dtype).name in ref["set_dtype"]
    p.list_data()[1][:] = 4
    p.reset_ctx([mx.cpu(2)])
    assert p.data().asnumpy().tolist() == ref["reset"]
    p.grad()[:] = 3
    p.grad_req = "add"
    assert p.grad().asnumpy().tolist() == ref["grad_after_switch"]
    p.cast("float16")
    assert [np.dtype(p.data().dtype).name, np.dtype(p.grad().dtype).name] == [
        "float16",
        "float16",
    ] and "float16" in ref["cast"][0]
    with pytest.warns(UserWarning) as record:
        p.initialize(ctx=mx.cpu(2))
    assert str(record[0].message) == ref["warn"]
    attrs = gluon.Parameter("v", shape=(4, 0), lr_mult=3).var().list_attr()
    for key in ("__shape__", "__lr_mult__", "__wd_mult__", "__dtype__", "__storage_type__"):
        assert attrs[key] == ref["var"][key]
    c = gluon.Constant("c", [[1, 2], [3, 4]])
    c.initialize()
    assert [c.data().asnumpy().tolist(), np.dtype(c.dtype).name, c.grad_req] == [
        ref["const"][0],
        "float32",
        ref["const"][2],
    ]


@pytest.mark.parametrize("grad_req", ["write", "add"])
def test_gradients_of_a_small_network_match(mxnet_ref, grad_req):
    ref = mxnet_ref(f"""
        import json, numpy as np, mxnet as mx
        from mxnet import autograd, gluon, init
        from mxnet.gluon import nn
        net = nn.Sequential()
        net.add(nn.Dense(4, activation='tanh', in_units=3), nn.Dense(2, in_units=4))
        net.initialize(init.Constant(0.1))
        net[0].weight.set_data(mx.nd.array(np.linspace(-1, 1, 12).reshape(4, 3)))
        net[1].weight.set_data(mx.nd.array(np.linspace(0.5, -0.7, 8).reshape(2, 4)))
        net.collect_params().setattr('grad_req', '{grad_req}')
        loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
        x, y = mx.nd.array({X.tolist()}), mx.nd.array({Y.tolist()})
        for _ in range(2):
            with autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
        print(json.dumps({{k: v.grad().asnumpy().tolist()
                          for k, v in net._collect_params_with_prefix().items()}}))
    """)
    net = nn.Sequential()
    net.add(nn.Dense(4, activation="tanh", in_units=3), nn.Dense(2, in_units=4))
    net.initialize(init.Constant(0.1), ctx=[mx.cpu(0), mx.cpu(1)])
    net[0].weight.set_data(nd.array(np.linspace(-1, 1, 12).reshape(4, 3)))
    net[1].weight.set_data(nd.array(np.linspace(0.5, -0.7, 8).reshape(2, 4)))
    net.collect_params().setattr("grad_req", grad_req)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for c in (mx.cpu(0), mx.cpu(1)):
        x, y = nd.array(X, ctx=c), nd.array(Y, ctx=c)
        for _ in range(2):
            with autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
    for key, param in net._collect_params_with_prefix().items():
        for g in param.list_grad():
            np.testing.assert_allclose(
                g.asnumpy(),
                ref[key],
                rtol=1e-4,
                atol=1e-6,
                err_msg=f"{key} on {g.context} ({grad_req})",
            )
