"""The views inside a real IPython kernel: end-of-cell flush and the static face in outputs."""

from __future__ import annotations

import base64

import nbformat
import pytest
from nbclient import NotebookClient

CELLS = [
    "import paramlab as mx\n"
    "from paramlab.widgets import ParameterView, ModelView\n"
    "net = mx.gluon.nn.Dense(4, in_units=3)\n"
    "net.initialize(mx.init.Xavier(), ctx=[mx.cpu(0), mx.cpu(1)])\n"
    "pv = ParameterView(net.weight)\n"
    "pv",
    "mv = ModelView(net, selected='weight')\nmv",
    "trainer = mx.gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})\n"
    "x = [mx.nd.ones((2, 3), ctx=c) for c in net.weight.list_ctx()]\n"
    "for _ in range(5):\n"
    "    with mx.autograd.record():\n"
    "        losses = [net(xi).sum() for xi in x]\n"
    "    mx.autograd.backward(losses)\n"
    "    trainer.step(4)\n"
    "net.weight.data(mx.cpu(1))[:] += 1.0  # a manual update, shown when the cell ends",
    "print(pv.live, pv.card['replicas'][1]['divergence']['bitwise_equal'], mv.step)",
]


@pytest.mark.slow
def test_views_in_a_kernel():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    client = NotebookClient(nb, timeout=180, kernel_name="python3", store_widget_state=True)
    client.execute()
    first = nb.cells[0].outputs
    (shown,) = [o for o in first if o.get("output_type") == "display_data"]
    data = shown["data"]
    assert data["text/plain"].startswith("Parameter '")
    assert base64.b64decode(data["image/png"])[:4] == b"\x89PNG"
    assert "application/vnd.jupyter.widget-view+json" in data
    assert nb.cells[3].outputs[0]["text"].split() == ["False", "False", "5"]
    # the static faces were refreshed when the training cell finished (display_id updates):
    # cpu(1) now differs from cpu(0) and the model table has seen 5 steps
    assert "differs" in data["text/plain"] and "bitwise equal" not in data["text/plain"]
    (table,) = [o for o in nb.cells[1].outputs if o.get("output_type") == "display_data"]
    assert table["data"]["text/plain"].startswith("ModelView: 2 parameters, step 5")
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert any(m["model_name"] == "AnyModel" for m in state.values())
