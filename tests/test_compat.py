"""``paramlab.compat``: paramlab under the module name ``mxnet``, tried in subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def _run(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; return the JSON it prints last."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        raise AssertionError(f"subprocess failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_without_install_mxnet_is_not_paramlab():
    out = _run("""
        import json, sys
        import paramlab, paramlab.compat
        print(json.dumps({"installed": paramlab.compat.installed(),
                          "alias": "mxnet" in sys.modules}))
    """)
    assert out == {"installed": False, "alias": False}


def test_install_then_mxnet_imports_work():
    out = _run("""
        import json, sys
        import paramlab, paramlab.compat
        paramlab.compat.install()
        import mxnet
        import mxnet as mx
        from mxnet import nd, autograd
        from mxnet import np, npx
        import mxnet.ndarray
        from mxnet.ndarray import NDArray
        x = nd.array([1, 2, 3])
        x.attach_grad()
        with autograd.record():
            y = (x * x).sum()
        y.backward()
        npx.set_np()
        z = np.arange(4)
        print(json.dumps({
            "same": mx is paramlab,
            "installed": paramlab.compat.installed(),
            "nd": nd is paramlab.nd,
            "autograd": autograd is paramlab.autograd,
            "np": np is paramlab.np and npx is paramlab.npx,
            "ndarray_module": sys.modules["mxnet.ndarray"] is paramlab.ndarray,
            "NDArray": NDArray is paramlab.nd.NDArray,
            "grad": x.grad.asnumpy().tolist(),
            "ctx": str(mx.cpu(1)),
            "np_dtype": str(z.dtype),
        }))
    """)
    assert out == {
        "same": True,
        "installed": True,
        "nd": True,
        "autograd": True,
        "np": True,
        "ndarray_module": True,
        "NDArray": True,
        "grad": [2.0, 4.0, 6.0],
        "ctx": "cpu(1)",
        "np_dtype": "float32",
    }


def test_np_and_npx_are_attributes_not_submodules():
    # as in MXNet 1.9.1: `from mxnet import np` works, `import mxnet.np` does not
    out = _run("""
        import importlib, json
        import paramlab.compat
        paramlab.compat.install()
        errors = {}
        for name in ("mxnet.np", "mxnet.npx"):
            try:
                importlib.import_module(name)
                errors[name] = None
            except ImportError as exc:
                errors[name] = type(exc).__name__
        print(json.dumps(errors))
    """)
    assert out == {"mxnet.np": "ModuleNotFoundError", "mxnet.npx": "ModuleNotFoundError"}


def test_private_modules_are_not_aliased():
    out = _run("""
        import json, sys
        import paramlab.compat
        paramlab.compat.install()
        names = sorted(k for k in sys.modules if k.startswith("mxnet"))
        print(json.dumps(names))
    """)
    assert "mxnet" in out and "mxnet.context" in out and "mxnet.autograd" in out
    assert not [n for n in out if any(p.startswith("_") for p in n.split(".")[1:])]


def test_install_twice_and_uninstall():
    out = _run("""
        import json, sys
        import paramlab.compat
        paramlab.compat.install()
        paramlab.compat.install()
        was = paramlab.compat.installed()
        paramlab.compat.uninstall()
        left = sorted(k for k in sys.modules if k == "mxnet" or k.startswith("mxnet."))
        print(json.dumps({"was": was, "now": paramlab.compat.installed(), "left": left}))
    """)
    assert out == {"was": True, "now": False, "left": []}


def test_install_refuses_when_a_real_mxnet_is_imported():
    out = _run("""
        import json, sys, types
        sys.modules["mxnet"] = types.ModuleType("mxnet")
        import paramlab.compat
        try:
            paramlab.compat.install()
            print(json.dumps({"error": None}))
        except RuntimeError as exc:
            print(json.dumps({"error": str(exc),
                              "kept": sys.modules["mxnet"].__name__ == "mxnet",
                              "added": [k for k in sys.modules if k.startswith("mxnet.")]}))
    """)
    assert "already imported" in out["error"]
    assert out["kept"] and out["added"] == []


def test_install_does_not_leak_into_this_process():
    # every install above ran in a subprocess; this process has no 'mxnet' alias
    import paramlab
    import paramlab.compat

    assert sys.modules.get("mxnet") is not paramlab
    assert not paramlab.compat.installed()
