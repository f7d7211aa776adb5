"""Write notebooks/00_tour.ipynb from the cells below (outputs stripped)."""

import nbformat

md = nbformat.v4.new_markdown_cell
code = nbformat.v4.new_code_cell

cells = [
    md(
        "# A five-minute tour of paramlab\n\n"
        "paramlab is MXNet Gluon's parameter world on NumPy (and CuPy on a GPU). "
        "Code written for `mxnet` runs with `import paramlab as mx`."
    ),
    code(
        "import numpy as np\nimport paramlab as mx\n"
        "from paramlab import autograd, gluon, init, nd\nfrom paramlab.gluon import nn\n"
        "from paramlab.widgets import InitializerView, ModelView, ParameterView"
    ),
    md(
        "## Contexts\n\n`cpu(0)` and `cpu(1)` are two *different* devices with their own "
        "memory, so multi-device code runs on any laptop. A GPU is used when there is one."
    ),
    code("ctxs = [mx.cpu(0), mx.cpu(1)] + ([mx.gpu(0)] if mx.num_gpus() else [])\nctxs"),
    code("x = nd.array([[1, 2], [3, 4]], ctx=mx.cpu(1))\nx"),
    md(
        "Arrays never move between contexts silently: combining them is an error "
        "that names both devices."
    ),
    code(
        "try:\n    nd.ones((2, 2), ctx=mx.cpu(0)) + x\nexcept mx.MXNetError as err:\n"
        "    print(type(err).__name__, '-', err)"
    ),
    md(
        "## A parameter on two devices\n\nOne draw on the first context, copied to the "
        "others: replicas start identical."
    ),
    code(
        "w = gluon.Parameter('fc_weight', shape=(64, 32), init=init.Xavier())\n"
        "w.initialize(ctx=ctxs[:2])\n"
        "[d.context for d in w.list_data()], "
        "(w.data(ctxs[0]).asnumpy() == w.data(ctxs[1]).asnumpy()).all()"
    ),
    md(
        "The initializer can state what it drew from: Xavier uniform on a 64x32 weight is "
        "uniform on [-a, a]."
    ),
    code(
        "theory = init.Xavier().theory((64, 32))\ntheory.family, theory.support, "
        "round(theory.std, 4), round(float(w.data(ctxs[0]).asnumpy().std()), 4)"
    ),
    md(
        "The same comparison as a picture: a fresh draw against Xavier's density, with the "
        "measured and the theoretical moments and a Kolmogorov-Smirnov distance. Change the "
        "arguments and the view draws again."
    ),
    code("InitializerView(init.Xavier(), shape=(64, 32))"),
    md(
        "## Gradients per device\n\nEach replica is a leaf of its own graph and gets its own "
        "gradient."
    ),
    code(
        "for i, c in enumerate(ctxs[:2]):\n"
        "    xin = nd.ones((4, 32), ctx=c) * (i + 1)\n"
        "    with autograd.record():\n"
        "        loss = nd.dot(xin, w.data(c).T).sum()\n"
        "    loss.backward()\n"
        "[float(g.sum().asscalar()) for g in w.list_grad()]"
    ),
    md(
        "Every replica and every gradient buffer of `w`, per device: statistics, histograms, "
        "a thumbnail of the values, and whether the replicas are still bitwise equal."
    ),
    code("ParameterView(w)"),
    md("## A small network, trained on two devices"),
    code(
        "mx.random.seed(1)\n"
        "net = nn.Sequential()\n"
        "net.add(nn.Dense(16, activation='relu'), nn.Dense(1))\n"
        "net.initialize(init.Xavier(), ctx=ctxs[:2])\n"
        "X = nd.random.normal(shape=(64, 4))\n"
        "y = (X[:, 0:1] * 2 - X[:, 1:2] + 0.5)\n"
        "l2 = gluon.loss.L2Loss()\n"
        "before = float(l2(net(X.as_in_context(ctxs[0])), y).mean().asscalar())\n"
        "before"
    ),
    md(
        "Watch the whole model while it trains: the view below updates live during the next "
        "cell (at most 10 times a second) and once more when it finishes."
    ),
    code("model_view = ModelView(net)\nmodel_view"),
    code(
        "def train(net, X, y, ctxs, trainer, steps=100):\n"
        "    for _ in range(steps):\n"
        "        xs = gluon.utils.split_and_load(X, ctxs)\n"
        "        ys = gluon.utils.split_and_load(y, ctxs)\n"
        "        with autograd.record():\n"
        "            losses = [l2(net(a), b) for a, b in zip(xs, ys)]\n"
        "        for loss in losses:\n"
        "            loss.backward()\n"
        "        trainer.step(X.shape[0])\n\n"
        "trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})\n"
        "train(net, X, y, ctxs[:2], trainer)\n"
        "after = float(l2(net(X.as_in_context(ctxs[0])), y).mean().asscalar())\n"
        "after"
    ),
    md(
        "The Trainer sums the gradients of both replicas and applies one update, so the "
        "replicas stay bitwise identical:"
    ),
    code("w0, w1 = net[0].weight.list_data()\n(w0.asnumpy() == w1.asnumpy()).all()"),
    md(
        "## A checkpoint, saved and read back\n\n`save_parameters` writes MXNet's own `.params` "
        "format, under structural names."
    ),
    code(
        "import os, tempfile\n"
        "path = os.path.join(tempfile.mkdtemp(), 'tour.params')\n"
        "net.save_parameters(path)\n"
        "sorted(nd.load(path))"
    ),
    md("## What this tour showed"),
    code(
        "assert before > after\n"
        "assert (w0.asnumpy() == w1.asnumpy()).all()\n"
        "assert sorted(nd.load(path)) == ['0.bias', '0.weight', '1.bias', '1.weight']\n"
        "print('tour complete')"
    ),
]

nb = nbformat.v4.new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbformat.write(nb, "notebooks/00_tour.ipynb")
