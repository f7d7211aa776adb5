"""Operator-test helpers: run one ``mx.nd`` operator case here and in the reference MXNet.

A *case* is a JSON-able dict: ``op`` (an ``mx.nd`` name), ``arrays`` (nested lists,
passed positionally as float32), ``kwargs``, ``grad`` (indices of the arrays that
get a gradient), ``train`` (``autograd.record``'s train_mode) and optionally
``state`` (indices of arrays read back after backward, e.g. BatchNorm's moving
statistics) and ``n_outs`` (how many outputs to compare, all by default). The first
output is back-propagated with a fixed head gradient.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import paramlab as mx

_REF_SNIPPET = """
import json
import mxnet as mx
import numpy as np

CASES = json.loads({cases!r})


def head_for(shape):
    n = int(np.prod(shape)) if len(shape) else 1
    return np.cos(np.arange(n) * 0.7).reshape(shape).astype(np.float32)


def run(case):
    arrays = [mx.nd.array(np.array(a, dtype=np.float32)) for a in case["arrays"]]
    for i in case["grad"]:
        arrays[i].attach_grad()
    kwargs = {{k: tuple(v) if isinstance(v, list) else v for k, v in case["kwargs"].items()}}
    with mx.autograd.record(train_mode=case["train"]):
        out = getattr(mx.nd, case["op"])(*arrays, **kwargs)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    if case["grad"]:
        outs[0].backward(mx.nd.array(head_for(outs[0].shape)))
    return {{
        "outs": [o.asnumpy().tolist() for o in outs],
        "grads": [arrays[i].grad.asnumpy().tolist() for i in case["grad"]],
        "state": [arrays[i].asnumpy().tolist() for i in case.get("state", [])],
    }}


print(json.dumps([run(c) for c in CASES]))
"""

_REF_CACHE: dict[str, list] = {}


def head_for(shape):
    """The head gradient both sides use for an output of ``shape``."""
    n = int(np.prod(shape)) if len(shape) else 1
    return np.cos(np.arange(n) * 0.7).reshape(shape).astype(np.float32)


def run_case(case, ctx):
    """Run ``case`` with paramlab on ``ctx``; same layout as the reference's answer."""
    arrays = [mx.nd.array(np.array(a, dtype=np.float32), ctx=ctx) for a in case["arrays"]]
    for i in case["grad"]:
        arrays[i].attach_grad()
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in case["kwargs"].items()}
    with mx.autograd.record(train_mode=case["train"]):
        out = getattr(mx.nd, case["op"])(*arrays, **kwargs)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    if case["grad"]:
        outs[0].backward(mx.nd.array(head_for(outs[0].shape), ctx=ctx))
    return {
        "outs": [o.asnumpy() for o in outs],
        "grads": [arrays[i].grad.asnumpy() for i in case["grad"]],
        "state": [arrays[i].asnumpy() for i in case.get("state", [])],
    }


@pytest.fixture
def reference(mxnet_ref):
    """``reference(key, cases)``: the reference MXNet's answers, computed once per key."""

    def get(key, cases):
        if key not in _REF_CACHE:
            _REF_CACHE[key] = mxnet_ref(_REF_SNIPPET.format(cases=json.dumps(cases)))
        return _REF_CACHE[key]

    return get


@pytest.fixture
def compare_with_reference(reference):
    """``compare(key, cases, ctx, rtol, atol)``: every output, gradient and state must match."""

    def compare(key, cases, ctx, rtol=1e-4, atol=1e-5):
        answers = reference(key, cases)
        for case, ref in zip(cases, answers):
            mine = run_case(case, ctx)
            label = f"{case['op']} {case['kwargs']}"
            n_outs = case.get("n_outs")
            if n_outs is not None:
                mine["outs"], ref["outs"] = mine["outs"][:n_outs], ref["outs"][:n_outs]
            for part in ("outs", "grads", "state"):
                assert len(mine[part]) == len(ref[part]), f"{label}: number of {part}"
                for i, (a, b) in enumerate(zip(mine[part], ref[part])):
                    np.testing.assert_allclose(
                        a,
                        np.array(b, dtype=np.float32),
                        rtol=rtol,
                        atol=atol,
                        err_msg=f"{label}: {part}[{i}]",
                    )

    return compare
