"""Write the teaching notebooks 01-07 and 09 (outputs stripped) from the cells below.

    python tools/make_notebooks.py          # all of them
    python tools/make_notebooks.py 02 05    # only these

Each notebook is one lesson: short markdown, small code cells, and a last cell that
asserts what the lesson showed, so a broken lesson fails ``make test``. Notebooks run
with ``notebooks/`` as their working directory; anything they write goes to a
temporary directory. ``00_tour`` comes from ``make_tour.py`` and ``08`` from
``make_notebook_08.py``.
"""

from __future__ import annotations

import pathlib
import sys
import textwrap

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

# Cells that show a paramlab.widgets view (ParameterView, InitializerView, ModelView).
# False leaves them out, for a checkout without the views.
WITH_VIEWS = True


def md(text):
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text):
    return nbformat.v4.new_code_cell(textwrap.dedent(text).strip("\n"))


def views(*cells):
    """Cells that exist only when the views are available (see WITH_VIEWS)."""
    return list(cells) if WITH_VIEWS else []


# ---------------------------------------------------------------------------------------------
# 01 Parameters and contexts
# ---------------------------------------------------------------------------------------------
def nb01():
    return [
        md("""
        # 1. Parameters and contexts

        A *context* is a device: `cpu(0)`, `cpu(1)`, `gpu(0)`, ... A *Parameter* is a named
        weight that can live on several contexts at once, one copy (a *replica*) per context.
        In this lesson you will

        * create arrays on a chosen context and move them explicitly,
        * declare a `Parameter`, initialize it on two contexts and look at each replica,
        * find the parameters inside a network and share one between two layers.

        In paramlab `cpu(0)` and `cpu(1)` are two separate devices with their own memory, so
        everything here runs on a laptop exactly as it would on two GPUs.
        """),
        code("""
        import numpy as np
        import paramlab as mx
        from paramlab import autograd, gluon, init, nd
        from paramlab.gluon import nn
        """),
        md("""
        ## Contexts

        `mx.cpu()` is `mx.cpu(0)`. Use a GPU when there is one, and fall back to the CPU when
        there is not (as on a laptop or on Binder):
        """),
        code("""
        device = mx.gpu(0) if mx.num_gpus() else mx.cpu(0)
        mx.cpu(), mx.cpu(1), mx.cpu() == mx.cpu(0), device
        """),
        md("""
        Every array knows where it lives. Arrays are created on the *current context*, which
        is `cpu(0)` unless a `with ctx:` block says otherwise.
        """),
        code("""
        a = nd.ones((2, 3))
        with mx.cpu(1):
            b = nd.ones((2, 3))
        a.context, b.context, mx.current_context()
        """),
        md("""
        Moving an array is always explicit. `copyto(ctx)` always makes a new array;
        `as_in_context(ctx)` returns the very same array when it is already there.
        """),
        code("""
        c = a.copyto(mx.cpu(1))
        c.context, a.as_in_context(mx.cpu(0)) is a, a.copyto(mx.cpu(0)) is a
        """),
        md("""
        Nothing moves silently. Combining arrays from two contexts is an error that names both
        of them, instead of a hidden copy that would make a program slow:
        """),
        code("""
        try:
            a + b
        except mx.MXNetError as err:
            mismatch = err
            print(type(err).__name__, '-', err)
        """),
        md("""
        ## A Parameter and its replicas

        A `Parameter` starts as a description: a name, a shape, an initializer. It holds no
        values yet, so asking for them is an error.
        """),
        code("""
        w = gluon.Parameter('weight', shape=(3, 4), init=init.Uniform(0.5))
        print(w)
        try:
            w.data()
        except RuntimeError as err:
            print('RuntimeError -', err)
        """),
        md("""
        `initialize(ctx=[...])` draws the values once and puts one replica on each context.
        All replicas start identical.
        """),
        code("""
        mx.random.seed(0)
        w.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
        w0, w1 = w.list_data()
        w.list_ctx(), w0.context, w1.context, bool((w0.asnumpy() == w1.asnumpy()).all())
        """),
        *views(
            md("""
            A `ParameterView` draws every replica of a parameter side by side, with its
            histogram and its divergence from replica 0.
            """),
            code("""
            from paramlab.widgets import ParameterView
            ParameterView(w)
            """),
        ),
        md("""
        `data(ctx)` picks one replica. Without an argument, `data()` returns the replica on the
        current context.
        """),
        code("""
        with mx.cpu(1):
            current = w.data()
        current is w1, w.data(mx.cpu(0)) is w0
        """),
        md("""
        The replicas are separate buffers. Writing into one leaves the other alone; keeping
        them equal is the job of the `Trainer` (lesson 5). `set_data` writes every replica.
        """),
        code("""
        w0[0, 0] = 42
        print(w0[0, 0].asscalar(), w1[0, 0].asscalar())
        w.set_data(nd.zeros((3, 4)))
        print([float(d.abs().sum().asscalar()) for d in w.list_data()])
        """),
        md("""
        Each replica also has its own gradient buffer, on its own context. Backward through a
        computation on `cpu(1)` only writes the gradient of the `cpu(1)` replica.
        """),
        code("""
        x = nd.ones((2, 4), ctx=mx.cpu(1))
        with autograd.record():
            loss = nd.dot(x, w.data(mx.cpu(1)).T).sum()
        loss.backward()
        g0, g1 = w.list_grad()
        g0.context, g1.context, float(g0.sum().asscalar()), float(g1.sum().asscalar())
        """),
        md("""
        ## Parameters inside a network

        Layers own parameters. A `Dense(units)` layer has a `weight` of shape
        `(units, in_units)` and a `bias` of shape `(units,)`. `collect_params()` gathers the
        parameters of a block and all its children, under their global names.
        """),
        code("""
        net = nn.Sequential()
        net.add(nn.Dense(8, in_units=4, activation='relu'), nn.Dense(2, in_units=8))
        net.initialize(ctx=device)
        print(net.collect_params())
        """),
        md("""
        The same parameter is reachable as an attribute, through the layer's own `params`,
        and by name; `collect_params` also takes a regular expression.
        """),
        code("""
        first = net[0].weight
        params = net.collect_params()
        print(type(first).__name__, first.name, first.shape)
        print(params[first.name] is first, net[0].params[first.name] is first)
        print(list(net.collect_params('.*weight').keys()))
        """),
        md("""
        ## Sharing a parameter

        Passing `params=` makes a layer use another layer's parameters: the two layers hold
        the *same* `Parameter` objects, a write through one is seen by the other, and
        `collect_params` lists a shared parameter once.
        """),
        code("""
        shared = nn.Dense(8, in_units=8, activation='relu')
        net2 = nn.Sequential()
        net2.add(nn.Dense(8, in_units=4, activation='relu'), shared,
                 nn.Dense(8, in_units=8, activation='relu', params=shared.params),
                 nn.Dense(1, in_units=8))
        net2.initialize(ctx=device)
        net2[1].weight.data()[0, 0] = 100
        print(net2[1].weight is net2[2].weight, net2[2].weight.data()[0, 0].asscalar())
        print(len(net2.collect_params()), 'parameters for', len(net2), 'layers')
        """),
        md("""
        ## What this lesson showed

        * Arrays live on one context; moves are explicit (`copyto`, `as_in_context`).
        * A Parameter has one replica per context, identical after `initialize`, each with its
          own gradient buffer.
        * `collect_params()` finds every parameter of a network once, also when it is shared.
        """),
        code("""
        assert isinstance(mismatch, mx.base.ContextMismatchError)
        assert w.list_ctx() == [mx.cpu(0), mx.cpu(1)]
        assert [d.context for d in w.list_data()] == [mx.cpu(0), mx.cpu(1)]
        assert float(g0.abs().sum().asscalar()) == 0 and float(g1.sum().asscalar()) > 0
        assert c is not a and a.as_in_context(mx.cpu(0)) is a
        assert net[0].weight.shape == (8, 4) and net[1].weight.shape == (2, 8)
        assert net2[1].weight is net2[2].weight
        assert net2[2].weight.data()[0, 0].asscalar() == 100
        assert len(net2.collect_params()) == 6
        print('lesson 1 complete')
        """),
    ]


# ---------------------------------------------------------------------------------------------
# 02 Initializers
# ---------------------------------------------------------------------------------------------
def nb02():
    return [
        md("""
        # 2. Initializers, against their theory

        An initializer writes the first values of a parameter. Each of paramlab's initializers
        can also *state* what it draws: `initializer.theory(shape)` gives the distribution
        family, its mean and standard deviation, its support and, where one exists, its
        density `pdf` and distribution function `cdf`. In this lesson you will

        * draw every built-in initializer and compare the values with its theory
          (a histogram against the density, measured against theoretical std, and a
          Kolmogorov-Smirnov distance),
        * see how `Xavier` adapts its scale to the shape of the weight,
        * see why initializing every weight to the same value (zero, or any constant) never
          lets the hidden units of a layer become different.
        """),
        code("""
        import math
        import matplotlib.pyplot as plt
        import numpy as np
        import paramlab as mx
        from paramlab import autograd, gluon, init, nd
        from paramlab.gluon import nn

        device = mx.gpu(0) if mx.num_gpus() else mx.cpu(0)
        mx.random.seed(0)
        """),
        md("""
        To see what an initializer does, give it a parameter and look at the values:
        """),
        code("""
        def draw(initializer, shape):
            \"\"\"A fresh parameter of `shape`, initialized by `initializer`: its values.\"\"\"
            p = gluon.Parameter('weight', shape=shape, init=initializer)
            p.initialize(ctx=device)
            return p.data()

        shape = (256, 128)
        cases = {
            'Uniform(0.07)': init.Uniform(0.07),      # what net.initialize() uses by default
            'Normal(0.01)': init.Normal(0.01),
            'Xavier()': init.Xavier(),
            'Xavier(gaussian, in, 2)': init.Xavier(rnd_type='gaussian', factor_type='in',
                                                   magnitude=2),
            'MSRAPrelu()': init.MSRAPrelu(),
            'Orthogonal()': init.Orthogonal(),
            'Constant(0.3)': init.Constant(0.3),
            'Zero()': init.Zero(),
        }
        draws = {name: draw(ini, shape) for name, ini in cases.items()}
        theories = {name: ini.theory(shape) for name, ini in cases.items()}
        theories['Xavier()']
        """),
        md("""
        ## Measured against stated

        For each initializer: the family, the theoretical and measured standard deviation, and
        `theory.check(values)`. For a continuous law `check` is the Kolmogorov-Smirnov (KS)
        distance: the largest gap between the empirical distribution function of the values
        and the theoretical `cdf`. With `n` independent draws, an honest sample stays below
        about `1.63 / sqrt(n)` in 99% of the cases. For a constant, `check` is the largest
        deviation from the value, which must be exactly 0.
        """),
        code("""
        n = shape[0] * shape[1]
        ks_bound = 1.63 / math.sqrt(n)
        rows = []
        print(f"{'initializer':26s}{'family':>12s}{'std (theory)':>14s}{'std (measured)':>16s}"
              f"{'check':>11s}")
        for name, values in draws.items():
            th = theories[name]
            measured = float(values.asnumpy().std())
            distance = th.check(values)
            rows.append((name, th, measured, distance))
            print(f'{name:26s}{th.family:>12s}{th.std:14.5f}{measured:16.5f}{distance:11.2e}')
        print(f'KS bound for n={n}: {ks_bound:.2e}')
        """),
        md("""
        The KS distance is simple to compute by hand: sort the values, then compare the
        staircase `i/n` with the theoretical `cdf` at each value.
        """),
        code("""
        values = np.sort(draws['Xavier()'].asnumpy().ravel()).astype(np.float64)
        cdf = theories['Xavier()'].cdf(values)
        steps = np.arange(1, n + 1) / n
        ks_by_hand = max((steps - cdf).max(), (cdf - (steps - 1 / n)).max())
        ks_by_hand, theories['Xavier()'].check(draws['Xavier()'])
        """),
        md("""
        The same comparison as pictures: the histogram of the values (bars) and the density
        the initializer states (line). An orthogonal matrix has no density to draw: its
        invariant is checked instead (next section).
        """),
        code("""
        continuous = ['Uniform(0.07)', 'Normal(0.01)', 'Xavier()', 'Xavier(gaussian, in, 2)',
                      'MSRAPrelu()', 'Orthogonal()']
        fig, axes = plt.subplots(2, 3, figsize=(11, 5.5))
        for ax, name in zip(axes.ravel(), continuous):
            th, values = theories[name], draws[name].asnumpy().ravel()
            ax.hist(values, bins=60, density=True, color='#9ecae1', label='drawn')
            if th.pdf is not None:
                pad = 0.1 * (values.max() - values.min())
                grid = np.linspace(values.min() - pad, values.max() + pad, 400)
                ax.plot(grid, th.pdf(grid), color='#d62728', lw=1.5, label='theory pdf')
            ax.set_title(f'{name}  KS={th.check(draws[name]):.3f}' if th.pdf is not None
                         else f'{name}  (no pdf)', fontsize=9)
            ax.tick_params(labelsize=7)
        axes[0, 0].legend(fontsize=7)
        fig.tight_layout()
        plt.show()
        """),
        *views(
            md("""
            The `InitializerView` draws the same comparison live; change an argument or the
            shape and it draws again.
            """),
            code("""
            from paramlab.widgets import InitializerView
            InitializerView(init.Xavier(), shape=(256, 128))
            """),
        ),
        md("""
        ## Xavier follows the shape

        `Xavier` scales its values by the number of inputs (`fan_in`) and outputs (`fan_out`)
        of the layer, so that signals keep their size from layer to layer. For a weight of
        shape `(out, in, k1, k2, ...)`, `fan_in = in * k1 * k2 ...` and
        `fan_out = out * k1 * k2 ...`. The default (`uniform`, `avg`, magnitude 3) draws from
        `U[-a, a]` with `a = sqrt(3 / ((fan_in + fan_out) / 2))`, whose std is `a / sqrt(3)`.
        """),
        code("""
        def xavier_std(shape, magnitude=3):
            receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
            fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
            a = math.sqrt(magnitude / ((fan_in + fan_out) / 2))
            return a / math.sqrt(3)

        fan_rows = []
        for s in [(64, 32), (512, 256), (16, 8, 3, 3)]:
            fan_rows.append((s, xavier_std(s), init.Xavier().theory(s).std))
            print(f'{str(s):16s} formula {fan_rows[-1][1]:.5f}   theory {fan_rows[-1][2]:.5f}')
        """),
        md("""
        ## Deterministic initializers

        Some initializers draw nothing at random; their theory states an invariant, and
        `check` measures how far the values are from it.

        * `Orthogonal` makes the columns of the weight orthogonal, with norm `scale`;
          `check` is the largest entry of `|WᵀW / scale² - I|`.
        * `Bilinear` fills an upsampling kernel (for a transposed convolution).
        * `LSTMBias` sets the forget-gate quarter of an LSTM bias to a value, the rest to 0.
        """),
        code("""
        print('Orthogonal:', theories['Orthogonal()'].invariant)
        print('  defect:', theories['Orthogonal()'].check(draws['Orthogonal()']))
        bilinear = draw(init.Bilinear(), (1, 1, 4, 4))
        print('Bilinear 4x4 kernel:')
        print(bilinear[0, 0].asnumpy())
        lstm_bias = draw(init.LSTMBias(forget_bias=1.0), (16,))
        print('LSTMBias:', lstm_bias.asnumpy())
        """),
        md("""
        ## Why every weight must not start equal

        Take a tiny network, `Dense(8, tanh)` then `Dense(1)`, and fit a curve with three
        initializations of the weights: all zero, all `0.3`, and `Xavier`. After training,
        count how many of the 8 hidden units compute *different* functions of the input.
        """),
        code("""
        X = nd.random.uniform(-1, 1, shape=(128, 2), ctx=device)
        y = nd.sin(3 * X[:, 0:1]) * X[:, 1:2]
        l2 = gluon.loss.L2Loss()

        def fit(initializer, steps=300):
            net = nn.Sequential()
            net.add(nn.Dense(8, activation='tanh'), nn.Dense(1))
            net.initialize(initializer, ctx=device)
            trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.5})
            for _ in range(steps):
                with autograd.record():
                    loss = l2(net(X), y)
                loss.backward()
                trainer.step(X.shape[0])
            hidden = net[0](X).asnumpy()            # (128, 8): one column per hidden unit
            distinct = len(np.unique(hidden.T.round(5), axis=0))
            return net, distinct, float(l2(net(X), y).mean().asscalar())

        results = {}
        for name, ini in [('Zero()', init.Zero()), ('Constant(0.3)', init.Constant(0.3)),
                          ('Xavier()', init.Xavier())]:
            results[name] = fit(ini)
            net, distinct, loss = results[name]
            print(f'{name:14s} distinct hidden units: {distinct}   final loss: {loss:.4f}')
        """),
        md("""
        All 8 units of a layer compute the same formula. If they also start with the same
        weights, they produce the same output, receive the same gradient, and take the same
        step: after any number of steps they are still copies of each other, and the layer
        behaves like a single unit. With zeros it is even worse here: `tanh(0) = 0`, so no
        signal and no gradient pass through the hidden layer at all, and its weights never
        move. Only random initial values break the symmetry.
        """),
        code("""
        first_layer = {name: r[0][0].weight.data().asnumpy() for name, r in results.items()}
        print('Zero init, first-layer weights after training:', np.abs(first_layer['Zero()']).max())
        print('Constant(0.3), the 8 rows are equal:',
              bool((first_layer['Constant(0.3)'] == first_layer['Constant(0.3)'][0]).all()))
        """),
        md("""
        ## What this lesson showed

        * Each initializer's values match its stated law: std within a few per cent, KS
          distance below the 99% bound, exact constants, orthogonal columns.
        * Xavier's scale follows `fan_in` and `fan_out`.
        * Equal initial weights keep hidden units identical forever; random ones do not.
        """),
        code("""
        for name, th, measured, distance in rows:
            if th.family in ('uniform', 'normal'):
                assert abs(measured - th.std) < 0.03 * th.std, name
                assert distance < ks_bound, (name, distance)
            elif th.family == 'constant':
                assert distance == 0 and measured == 0, name
        assert theories['Orthogonal()'].check(draws['Orthogonal()']) < 1e-4
        assert abs(ks_by_hand - theories['Xavier()'].check(draws['Xavier()'])) < 1e-6
        for s, formula, stated in fan_rows:
            assert abs(formula - stated) < 1e-6 * stated, s
        assert lstm_bias.asnumpy().tolist() == [0.0] * 4 + [1.0] * 4 + [0.0] * 8
        assert results['Zero()'][1] == 1 and results['Constant(0.3)'][1] == 1
        assert results['Xavier()'][1] == 8
        assert np.abs(first_layer['Zero()']).max() == 0
        assert results['Xavier()'][2] < results['Zero()'][2] / 2
        print('lesson 2 complete')
        """),
    ]


# ---------------------------------------------------------------------------------------------
# 03 Gradients: write, add, null
# ---------------------------------------------------------------------------------------------
def nb03():
    return [
        md("""
        # 3. Gradients: `write`, `add` and `null`

        Every Parameter has a `grad_req` that says what `backward()` does with its gradient
        buffer:

        | `grad_req` | backward ... | used for |
        |---|---|---|
        | `'write'` (default) | overwrites the buffer | ordinary training |
        | `'add'` | adds to the buffer | accumulating gradients over several batches |
        | `'null'` | keeps no gradient at all | frozen layers, `Constant`s |

        In this lesson you will watch each mode, accumulate the gradient of a large batch
        from two small ones, freeze a layer, and keep a fixed array in a model as a `Constant`.
        """),
        code("""
        import numpy as np
        import paramlab as mx
        from paramlab import autograd, gluon, init, nd
        from paramlab.gluon import nn

        device = mx.gpu(0) if mx.num_gpus() else mx.cpu(0)
        """),
        md("""
        A one-parameter experiment: the loss `sum(w * x)` has gradient `x` with respect to `w`,
        so every backward pass writes a gradient we know in advance.
        """),
        code("""
        w = gluon.Parameter('w', shape=(3,), init=init.One())
        w.initialize(ctx=device)

        def backward_with(x):
            with autograd.record():
                loss = (w.data() * nd.array(x, ctx=device)).sum()
            loss.backward()
            return w.grad().asnumpy()

        w.grad_req, w.grad().asnumpy()        # the buffer exists and starts at zero
        """),
        md("""
        ## `'write'`: the last backward wins
        """),
        code("""
        backward_with([1, 2, 3])
        after_write = backward_with([10, 20, 30])
        after_write
        """),
        md("""
        ## `'add'`: gradients accumulate until you clear them

        With `'add'`, each backward adds its gradient to the buffer. Nothing clears it for you:
        call `zero_grad()` when you want to start again.
        """),
        code("""
        w.grad_req = 'add'
        w.zero_grad()
        backward_with([1, 2, 3])
        after_add = backward_with([10, 20, 30])
        w.zero_grad()
        after_zero = w.grad().asnumpy()
        after_add, after_zero
        """),
        md("""
        ### Accumulation in practice: a big batch from small ones

        When a batch does not fit in memory, run it in pieces with `grad_req='add'`: the sum of
        the pieces' gradients is the gradient of the whole batch (the loss is a sum over
        examples).
        """),
        code("""
        mx.random.seed(0)
        net = nn.Dense(2, in_units=3)
        net.initialize(ctx=device)
        batch = nd.random.normal(shape=(8, 3), ctx=device)

        with autograd.record():
            loss = net(batch).square().sum()
        loss.backward()
        whole = net.weight.grad().copy()

        net.collect_params().setattr('grad_req', 'add')
        net.collect_params().zero_grad()
        for piece in (batch[:4], batch[4:]):
            with autograd.record():
                loss = net(piece).square().sum()
            loss.backward()
        pieces = net.weight.grad()
        accumulation_gap = float((whole - pieces).abs().max().asscalar())
        accumulation_gap
        """),
        md("""
        A `Trainer` reads the gradient buffers but never clears them. With `'add'`, the next
        backward would add to the gradient already used, so call `zero_grad()` after each
        `step`. And a `step` with no backward since the last one is refused: the gradient is
        *stale*.
        """),
        code("""
        trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})
        trainer.step(batch_size=8)
        print('after step, gradient still there:', float(net.weight.grad().abs().sum().asscalar()))
        try:
            trainer.step(batch_size=8)
        except mx.base.StaleGradientError as err:
            stale = err
            print('StaleGradientError -', err)
        net.collect_params().zero_grad()
        """),
        md("""
        ## `'null'`: no gradient, a frozen parameter

        With `'null'` there is no gradient buffer, and the Trainer leaves the parameter alone.
        This is how a layer is frozen, e.g. the pretrained part of a network in fine-tuning.
        """),
        code("""
        mx.random.seed(1)
        model = nn.Sequential()
        model.add(nn.Dense(4, in_units=3, activation='relu'), nn.Dense(1, in_units=4))
        model.initialize(init.Xavier(), ctx=device)
        model[0].collect_params().setattr('grad_req', 'null')     # freeze the first layer

        try:
            model[0].weight.grad()
        except RuntimeError as err:
            print('RuntimeError -', err)

        frozen_before = model[0].weight.data().copy()
        head_before = model[1].weight.data().copy()
        trainer = gluon.Trainer(model.collect_params(), 'sgd', {'learning_rate': 0.1})
        data = nd.random.normal(shape=(16, 3), ctx=device)
        for _ in range(5):
            with autograd.record():
                loss = model(data).square().mean()
            loss.backward()
            trainer.step(1)
        frozen_moved = float((model[0].weight.data() - frozen_before).abs().max().asscalar())
        head_moved = float((model[1].weight.data() - head_before).abs().max().asscalar())
        frozen_moved, head_moved
        """),
        md("""
        ## `Constant`: a fixed array that belongs to the model

        A `Constant` is a parameter whose `grad_req` is always `'null'`. It is saved and moved
        with the model like any parameter, but no gradient and no Trainer ever changes it.
        Create one in a block with `self.params.get_constant(name, value)`.
        """),
        code("""
        class Scaled(nn.Block):
            \"\"\"A Dense layer whose outputs are multiplied by fixed per-unit scales.\"\"\"

            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                with self.name_scope():
                    self.dense = nn.Dense(4, in_units=3)
                    self.scale = self.params.get_constant('scale', [1.0, 2.0, 3.0, 4.0])

            def forward(self, x):
                return self.dense(x) * self.scale.data(x.context)

        scaled = Scaled()
        scaled.initialize(ctx=device)
        print(scaled.collect_params())
        print(type(scaled.scale).__name__, 'grad_req =', scaled.scale.grad_req)
        """),
        code("""
        trainer = gluon.Trainer(scaled.collect_params(), 'sgd', {'learning_rate': 0.1})
        dense_before = scaled.dense.weight.data().copy()
        for _ in range(3):
            with autograd.record():
                loss = scaled(nd.random.normal(shape=(8, 3), ctx=device)).sum()
            loss.backward()
            trainer.step(8)
        constant_after = scaled.scale.data().asnumpy()
        dense_moved = float((scaled.dense.weight.data() - dense_before).abs().max().asscalar())
        constant_after, dense_moved
        """),
        md("""
        ## What this lesson showed

        * `'write'` keeps the last gradient, `'add'` sums them until `zero_grad()`.
        * Two half batches accumulated with `'add'` give the gradient of the whole batch.
        * The Trainer never clears gradients and refuses a stale one.
        * `'null'` freezes a parameter; a `Constant` is always frozen.
        """),
        code("""
        assert after_write.tolist() == [10, 20, 30]
        assert after_add.tolist() == [11, 22, 33]
        assert after_zero.tolist() == [0, 0, 0]
        assert accumulation_gap < 1e-5
        assert isinstance(stale, RuntimeError)
        assert frozen_moved == 0 and head_moved > 0
        assert constant_after.tolist() == [1.0, 2.0, 3.0, 4.0] and dense_moved > 0
        assert scaled.scale.grad_req == 'null'
        print('lesson 3 complete')
        """),
    ]


# ---------------------------------------------------------------------------------------------
# 04 Deferred initialization
# ---------------------------------------------------------------------------------------------
def nb04():
    return [
        md("""
        # 4. Deferred initialization

        You can write `nn.Dense(256)` without saying how many inputs the layer has. The weight's
        shape is then unknown until data flows through the network, so initialization waits
        for the first forward pass: it is *deferred*. In this lesson you will follow one
        network through the three stages

        1. declared (shapes partly unknown, no values),
        2. initialized but deferred (the initializer is remembered, nothing drawn yet),
        3. ready (the first forward pass fixed the shapes and ran the initializer once),

        and see the ways to initialize immediately instead.
        """),
        code("""
        import os
        import tempfile
        import warnings
        import paramlab as mx
        from paramlab import gluon, init, nd
        from paramlab.gluon import nn

        ctxs = [mx.gpu(0), mx.gpu(1)] if mx.num_gpus() >= 2 else [mx.cpu(0), mx.cpu(1)]
        """),
        md("""
        ## Stage 1: declared

        The unknown input dimension shows as `0` in the shapes.
        """),
        code("""
        def make_net():
            net = nn.Sequential()
            net.add(nn.Dense(256, activation='relu'), nn.Dense(10))
            return net

        net = make_net()
        print(net.collect_params())
        try:
            net[0].weight.data()
        except RuntimeError as err:
            print('RuntimeError -', err)
        """),
        md("""
        ## Stage 2: initialized, deferred

        To see *when* the initializer runs, use a custom initializer that records each call.
        A custom initializer subclasses `init.Initializer` and writes into `data` in
        `_init_weight`.
        """),
        code("""
        calls = []

        class Recording(init.Initializer):
            \"\"\"Uniform in [-0.1, 0.1], and remember every call.\"\"\"

            def _init_weight(self, name, data):
                calls.append((str(name), data.shape))
                data[:] = nd.random.uniform(-0.1, 0.1, shape=data.shape, ctx=data.context)

        net.initialize(Recording(), ctx=ctxs)
        print('initializer calls so far:', calls)
        try:
            net[0].weight.data(ctxs[0])
        except mx.base.DeferredInitializationError as err:
            deferred = err
            print(type(err).__name__, '-', err)
        """),
        md("""
        `DeferredInitializationError` is a `RuntimeError` (through `MXNetError`), so code that
        catches `RuntimeError` still works.

        ## Stage 3: the first forward pass

        A batch with 20 features fixes the first weight to `(256, 20)`; the second layer then
        sees 256 inputs. The remembered initializer runs once per weight (biases have their
        own `'zeros'` initializer), and the contexts given to `initialize` are remembered too.
        """),
        code("""
        X = nd.random.uniform(shape=(2, 20), ctx=ctxs[0])
        net(X)
        print(net.collect_params())
        print('initializer calls:', calls)
        print('replicas on:', net[0].weight.list_ctx())
        """),
        code("""
        net(X)
        calls_after_second_pass = len(calls)
        calls_after_second_pass                    # no new calls: initialization happens once
        """),
        md("""
        ## Initializing again

        A second `initialize()` is ignored with a warning; `force_reinit=True` draws new values
        now (the shapes are known).
        """),
        code("""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            net.initialize(Recording(), ctx=ctxs)
        print(caught[0].message)
        net.initialize(Recording(), ctx=ctxs, force_reinit=True)
        len(calls)
        """),
        md("""
        ## Avoiding deferral

        Three ways to get values before any data:

        * give the input size (`in_units=` for `Dense`, `in_channels=` for convolutions),
        * load a checkpoint: the file holds the shapes,
        * (in NumPy mode, `npx.set_np()`, the unknown size prints as `-1` instead of `0`).
        """),
        code("""
        immediate = nn.Dense(3, in_units=5)
        immediate.initialize(ctx=ctxs[0])
        print('with in_units:', immediate.weight.data().shape)

        path = os.path.join(tempfile.mkdtemp(), 'trained.params')
        net.save_parameters(path)
        fresh = make_net()
        fresh.load_parameters(path, ctx=ctxs[0])
        print('loaded:', fresh[0].weight.shape, fresh[1].weight.shape)

        with mx.util.np_shape(True):
            print('np mode:', nn.Dense(8).weight)
        """),
        md("""
        ## What this lesson showed

        * Without an input size, a weight's shape is unknown until the first forward pass;
          `data()` raises `RuntimeError` before `initialize` and
          `DeferredInitializationError` after it.
        * The first forward pass infers the shapes and runs the initializer exactly once per
          weight, on every context given to `initialize`.
        * `in_units`, `force_reinit` on a shaped network, and `load_parameters` make values
          available immediately.
        """),
        code("""
        assert isinstance(deferred, RuntimeError)
        assert calls[:2] == [(net[0].weight.name, (256, 20)), (net[1].weight.name, (10, 256))]
        assert calls_after_second_pass == 2 and len(calls) == 4
        assert net[0].weight.list_ctx() == ctxs
        assert immediate.weight.data().shape == (3, 5)
        assert fresh[0].weight.shape == (256, 20)
        assert (fresh[0].weight.data().asnumpy() == net[0].weight.data(ctxs[0]).asnumpy()).all()
        print('lesson 4 complete')
        """),
    ]


# ---------------------------------------------------------------------------------------------
# 05 Multi-device training
# ---------------------------------------------------------------------------------------------
def nb05():
    return [
        md("""
        # 5. Training on several devices

        Data parallelism: every device holds a replica of the whole model, each replica
        computes the gradient of its share of the batch, and the `Trainer` combines the
        gradients so that every replica takes the same step. In this lesson you will

        * split a batch over two devices with `split_and_load`,
        * train with the default Trainer and check that the replicas stay identical,
        * turn the synchronization off (`kvstore=None`) and measure how far the replicas drift
          apart with `paramlab.summary.divergence`.

        `cpu(0)` and `cpu(1)` play the two GPUs; with two GPUs the same code uses them.
        """),
        code("""
        import matplotlib.pyplot as plt
        import numpy as np
        import paramlab as mx
        from paramlab import autograd, gluon, init, nd
        from paramlab.gluon import nn
        from paramlab.summary import divergence

        ctxs = [mx.gpu(0), mx.gpu(1)] if mx.num_gpus() >= 2 else [mx.cpu(0), mx.cpu(1)]
        ctxs
        """),
        md("""
        A regression problem: 256 examples with 10 features, a linear target plus noise.
        """),
        code("""
        mx.random.seed(2)
        X = nd.random.normal(shape=(256, 10))
        true_w = nd.random.normal(shape=(10, 1))
        y = nd.dot(X, true_w) + 0.1 * nd.random.normal(shape=(256, 1))
        """),
        md("""
        ## Splitting a batch

        `split_and_load` cuts a batch along its first axis into one slice per context and
        places slice `i` on `ctxs[i]`. A batch that does not divide evenly is refused unless
        you pass `even_split=False`.
        """),
        code("""
        shards = gluon.utils.split_and_load(X[:32], ctxs)
        print([(s.shape, s.context) for s in shards])
        try:
            gluon.utils.split_and_load(X[:31], ctxs)
        except ValueError as err:
            print('ValueError -', err)
        print([s.shape for s in gluon.utils.split_and_load(X[:31], ctxs, even_split=False)])
        """),
        md("""
        ## One training loop, three ways to keep replicas in step

        `make_net` builds the same initial network each time; `train` runs the data-parallel
        loop and, after every step, measures how far replica 1 of the first weight is from
        replica 0. `divergence` compares two arrays on one device, so replica 1 is copied to
        replica 0's context first; `rel_l2` is `||w0 - w1|| / ||w0||`.
        """),
        code("""
        l2 = gluon.loss.L2Loss()

        def make_net():
            mx.random.seed(7)
            net = nn.Sequential()
            net.add(nn.Dense(32, activation='relu', in_units=10), nn.Dense(1, in_units=32))
            net.initialize(init.Xavier(), ctx=ctxs)
            return net

        def replica_gap(param):
            w0, w1 = param.list_data()
            return divergence(w0, w1.copyto(w0.context))

        def train(net, trainer, epochs=4, batch_size=32):
            gaps = []
            for _ in range(epochs):
                for i in range(0, X.shape[0], batch_size):
                    xs = gluon.utils.split_and_load(X[i:i + batch_size], ctxs)
                    ys = gluon.utils.split_and_load(y[i:i + batch_size], ctxs)
                    with autograd.record():
                        losses = [l2(net(a), b) for a, b in zip(xs, ys)]
                    for loss in losses:
                        loss.backward()
                    trainer.step(batch_size)
                    gaps.append(replica_gap(net[0].weight).rel_l2)
            return gaps
        """),
        md("""
        **Default Trainer.** The gradients of both replicas are summed, one update is computed,
        and it is written into every replica.
        """),
        code("""
        net_sync = make_net()
        print('before training:', replica_gap(net_sync[0].weight))
        trainer = gluon.Trainer(net_sync.collect_params(), 'sgd', {'learning_rate': 0.05})
        gaps_sync = train(net_sync, trainer)
        print('after training: ', replica_gap(net_sync[0].weight))
        """),
        md("""
        The replicas are bitwise identical, although their gradient buffers are not: each
        replica's buffer still holds the gradient of its own half of the batch.
        """),
        code("""
        g0, g1 = net_sync[0].weight.list_grad()
        grad_gap = divergence(g0, g1.copyto(g0.context))
        grad_gap
        """),
        md("""
        **`update_on_kvstore=False`.** The summed gradient is written into *every* gradient
        buffer and each context applies the same update itself. The replicas stay identical
        too.
        """),
        code("""
        net_local = make_net()
        trainer = gluon.Trainer(net_local.collect_params(), 'sgd', {'learning_rate': 0.05},
                                update_on_kvstore=False)
        gaps_local = train(net_local, trainer)
        g0, g1 = net_local[0].weight.list_grad()
        replica_gap(net_local[0].weight), divergence(g0, g1.copyto(g0.context)).bitwise_equal
        """),
        md("""
        **`kvstore=None`.** No reduction at all: each replica follows the gradient of its own
        half of the data. They start identical and drift apart from the first step.
        """),
        code("""
        net_free = make_net()
        trainer = gluon.Trainer(net_free.collect_params(), 'sgd', {'learning_rate': 0.05},
                                kvstore=None)
        gaps_free = train(net_free, trainer)
        for name, param in net_free.collect_params().items():
            print(f'{name:16s}', replica_gap(param))
        """),
        *views(
            md("""
            The `ParameterView` shows both replicas of the drifted weight side by side, with
            their divergence.
            """),
            code("""
            from paramlab.widgets import ParameterView
            ParameterView(net_free[0].weight)
            """),
        ),
        code("""
        fig, ax = plt.subplots(figsize=(7, 3))
        steps = np.arange(1, len(gaps_free) + 1)
        ax.plot(steps, gaps_free, label='kvstore=None')
        ax.plot(steps, gaps_sync, label='default Trainer')
        ax.plot(steps, gaps_local, '--', label='update_on_kvstore=False')
        ax.set_xlabel('step')
        ax.set_ylabel('rel. L2 gap, replica 1 vs 0')
        ax.set_title('first-layer weight')
        ax.legend()
        plt.show()
        """),
        md("""
        Two drifted replicas are two different models: they disagree on the same input.
        """),
        code("""
        probe = X[:4]
        predictions = [net_free(probe.as_in_context(c)).asnumpy().ravel() for c in ctxs]
        np.round(predictions, 3)
        """),
        *views(
            md("""
            `watch(trainer)` gives a `ModelView` that follows the training while it runs: every
            parameter's statistics, gradient norm and replica divergence, step by step. Show it
            first, then run the training in the next cell and watch the divergence column grow.
            """),
            code("""
            from paramlab.widgets import watch
            watched = make_net()
            trainer = gluon.Trainer(watched.collect_params(), 'sgd', {'learning_rate': 0.05},
                                    kvstore=None)
            view = watch(trainer, block=watched)
            view
            """),
            code("""
            watched_gaps = train(watched, trainer)
            watched_gaps[-1]
            """),
        ),
        md("""
        ## What this lesson showed

        * `split_and_load` gives each context its slice of the batch.
        * The default Trainer sums the replicas' gradients and keeps the replicas bitwise
          identical (so does `update_on_kvstore=False`).
        * With `kvstore=None` nothing is summed: replicas drift apart and end up as different
          models.
        """),
        code("""
        assert [s.context for s in shards] == ctxs
        assert max(gaps_sync) == 0 and max(gaps_local) == 0
        assert replica_gap(net_sync[0].weight).bitwise_equal
        assert not grad_gap.bitwise_equal
        assert gaps_free[0] > 0 and gaps_free[-1] > 0.05
        assert not replica_gap(net_free[0].weight).bitwise_equal
        assert np.abs(predictions[0] - predictions[1]).max() > 1e-3
        print('lesson 5 complete')
        """),
    ]


# ---------------------------------------------------------------------------------------------
# 06 Sparse parameters
# ---------------------------------------------------------------------------------------------
def nb06():
    return [
        md("""
        # 6. Sparse parameters

        An embedding table has one row per word of a vocabulary: tens of thousands of rows.
        A batch of sentences uses only a few of them, so a dense gradient of the whole table
        would be almost all zeros. MXNet stores such gradients as *row_sparse* arrays: only
        the rows that are present, plus their indices. In this lesson you will

        * compare a dense and a row_sparse embedding gradient,
        * see that a *lazy* optimizer update touches only the rows in the gradient,
        * keep the weight itself row_sparse and pull only the rows a batch needs with
          `row_sparse_data`.
        """),
        code("""
        import numpy as np
        import paramlab as mx
        from paramlab import autograd, gluon, init, nd
        from paramlab.gluon import nn

        device = mx.gpu(0) if mx.num_gpus() else mx.cpu(0)
        vocab, dim = 10000, 16
        tokens = nd.array([3, 17, 3, 512, 9999, 17], ctx=device)   # a batch of token ids
        """),
        md("""
        ## row_sparse arrays

        A `RowSparseNDArray` stores some rows (`data`) and their sorted row ids (`indices`);
        every other row is zero.
        """),
        code("""
        rsp = nd.sparse.row_sparse_array(
            (nd.array([[1, 1, 1], [2, 2, 2]]), nd.array([1, 4])), shape=(6, 3))
        print(rsp, rsp.indices, rsp.data, rsp.tostype('default'))
        """),
        md("""
        ## Dense versus sparse embedding gradients

        `nn.Embedding(..., sparse_grad=True)` gives the weight a row_sparse gradient.
        """),
        code("""
        def embedding_grad(sparse_grad):
            mx.random.seed(0)
            emb = nn.Embedding(vocab, dim, sparse_grad=sparse_grad)
            emb.initialize(init.Normal(0.1), ctx=device)
            with autograd.record():
                loss = emb(tokens).sum()
            loss.backward()
            return emb, emb.weight.grad()

        _, dense_grad = embedding_grad(False)
        emb, sparse_grad = embedding_grad(True)
        print('dense: ', dense_grad.stype, dense_grad.shape)
        print('sparse:', sparse_grad.stype, 'rows', sparse_grad.indices.asnumpy().tolist())
        dense_bytes = dense_grad.size * 4
        sparse_bytes = sparse_grad.data.size * 4 + sparse_grad.indices.size * 8
        print(f'bytes: dense {dense_bytes}, row_sparse {sparse_bytes}')
        """),
        md("""
        Both hold the same gradient: a looked-up row gets one gradient per occurrence
        (token 3 and token 17 appear twice).
        """),
        code("""
        as_dense = sparse_grad.tostype('default')
        same_gradient = bool((as_dense.asnumpy() == dense_grad.asnumpy()).all())
        same_gradient, sparse_grad.data[:, 0].asnumpy()
        """),
        md("""
        ## Lazy updates

        With momentum or weight decay, a plain SGD step changes *every* row: weight decay
        shrinks all weights, momentum keeps moving rows that had gradients before. For a big
        table that is slow, so for a row_sparse gradient the optimizers default to
        `lazy_update=True`: only the rows present in the gradient are updated (their momentum
        and weight decay included). `lazy_update=False` updates the whole table.
        """),
        code("""
        def rows_changed(lazy_update):
            emb, _ = embedding_grad(True)
            before = emb.weight.data().asnumpy().copy()
            trainer = gluon.Trainer(emb.collect_params(), 'sgd',
                                    {'learning_rate': 0.1, 'momentum': 0.9, 'wd': 0.01,
                                     'lazy_update': lazy_update})
            trainer.step(batch_size=len(tokens))
            changed = np.any(emb.weight.data().asnumpy() != before, axis=1)
            return np.flatnonzero(changed)

        lazy_rows, full_rows = rows_changed(True), rows_changed(False)
        print('lazy_update=True  changed rows:', lazy_rows.tolist())
        print('lazy_update=False changed rows:', len(full_rows), 'of', vocab)
        """),
        md("""
        ## A row_sparse weight

        For really large tables even the *weight* need not be dense on the device. A Parameter
        with `stype='row_sparse'` keeps its full value in the Trainer's store; a replica holds
        only the rows pulled with `row_sparse_data(row_ids)`. `data()` refuses, because no
        replica holds the whole table.
        """),
        code("""
        mx.random.seed(0)
        table = gluon.Parameter('table', shape=(vocab, dim), init=init.Normal(0.1),
                                stype='row_sparse', grad_stype='row_sparse')
        table.initialize(ctx=device)
        trainer = gluon.Trainer([table], 'sgd', {'learning_rate': 0.1})
        try:
            table.data()
        except RuntimeError as err:
            print('RuntimeError -', err)
        """),
        md("""
        A training step pulls the rows of the batch's unique tokens, looks the tokens up in
        them, and lets the Trainer write the update back into the store.
        """),
        code("""
        untouched_id = nd.array([0], ctx=device)
        row0_before = table.row_sparse_data(untouched_id).data.asnumpy().copy()

        rows_needed = nd.array(np.unique(tokens.asnumpy()), ctx=device)
        pulled = table.row_sparse_data(rows_needed)
        print('pulled rows:', pulled.indices.asnumpy().tolist())
        before = pulled.data.asnumpy().copy()
        with autograd.record():
            loss = nd.Embedding(tokens, pulled, input_dim=vocab, output_dim=dim).sum()
        loss.backward()
        trainer.step(batch_size=1)

        after = table.row_sparse_data(rows_needed).data.asnumpy()
        step_per_row = (before - after)[:, 0]
        row0_after = table.row_sparse_data(untouched_id).data.asnumpy()
        print('update of each pulled row (lr x count):', np.round(step_per_row, 4).tolist())
        print('row 0, never in a batch, unchanged:', bool((row0_after == row0_before).all()))
        """),
        md("""
        ## What this lesson showed

        * `sparse_grad=True` stores an embedding gradient as the looked-up rows only, with the
          same values as the dense gradient.
        * Lazy updates change only the rows in the gradient; `lazy_update=False` changes all.
        * A row_sparse weight lives in the Trainer's store; `row_sparse_data` pulls the rows a
          batch needs, and `step` updates exactly those.
        """),
        code("""
        assert sparse_grad.stype == 'row_sparse' and dense_grad.stype == 'default'
        assert sparse_grad.indices.asnumpy().tolist() == [3, 17, 512, 9999]
        assert same_gradient and sparse_bytes * 100 < dense_bytes
        assert lazy_rows.tolist() == [3, 17, 512, 9999] and len(full_rows) == vocab
        assert np.allclose(step_per_row, [0.2, 0.2, 0.1, 0.1], atol=1e-6)
        assert (row0_after == row0_before).all()
        print('lesson 6 complete')
        """),
    ]


# ---------------------------------------------------------------------------------------------
# 07 Checkpoints
# ---------------------------------------------------------------------------------------------
def nb07():
    return [
        md("""
        # 7. Checkpoints: real MXNet files

        paramlab reads and writes MXNet's own `.params` format byte for byte. The files in
        `tests/data/mxnet-params/` were written by MXNet 1.9.1 itself. In this lesson you will

        * inspect a real MXNet checkpoint with the `paramlab inspect` command,
        * load it into a network, check every value, and fine-tune part of the network,
        * save the result and see exactly which arrays changed.
        """),
        code("""
        import json
        import os
        import subprocess
        import sys
        import tempfile
        import numpy as np
        import paramlab as mx
        from paramlab import autograd, gluon, nd
        from paramlab.cli import inspect_file
        from paramlab.gluon import nn
        from paramlab.summary import divergence

        device = mx.gpu(0) if mx.num_gpus() else mx.cpu(0)
        DATA = os.path.join('..', 'tests', 'data', 'mxnet-params')   # relative to this notebook
        OUT = tempfile.mkdtemp()                                      # what we write goes here
        sorted(os.listdir(DATA))
        """),
        md("""
        ## Inspecting a checkpoint

        `paramlab inspect FILE` lists every array with its shape, dtype, storage type and
        statistics, without building a network. Here it runs as a command, as in a terminal.
        `block_emb_dense_bn.params` was saved by MXNet from
        `Sequential(Embedding(6, 4), Dense(3, in_units=4), BatchNorm(in_channels=3))`.
        """),
        code("""
        original = os.path.join(DATA, 'block_emb_dense_bn.params')

        def paramlab_inspect(*args):
            result = subprocess.run([sys.executable, '-m', 'paramlab.cli', 'inspect', *args],
                                    capture_output=True, text=True)
            print(result.stdout or result.stderr)
            return result.returncode

        inspect_status = paramlab_inspect(original)
        """),
        md("""
        The names are *structural*: `1.weight` is the `weight` of child `1` of the Sequential.
        `nd.load` reads the same file as a dict of arrays.
        """),
        code("""
        arrays = nd.load(original)
        {name: a.shape for name, a in arrays.items()}
        """),
        md("""
        ## Loading into a network

        A network with the same structure loads the file with `load_parameters`; shapes come
        from the file. A structural name is the path to the parameter (`2.running_mean` is
        `net[2].running_mean`). `expected.json` lists the values MXNet wrote, so we can check
        every number.
        """),
        code("""
        def make_net():
            net = nn.Sequential()
            net.add(nn.Embedding(6, 4), nn.Dense(3, in_units=4), nn.BatchNorm(in_channels=3))
            return net

        net = make_net()
        net.load_parameters(original, ctx=device)
        with open(os.path.join(DATA, 'expected.json')) as f:
            expected = json.load(f)['files']['block_emb_dense_bn.params']['arrays']

        emb, dense, bn = net[0], net[1], net[2]
        by_structure = {'0.weight': emb.weight, '1.weight': dense.weight, '1.bias': dense.bias,
                        '2.gamma': bn.gamma, '2.beta': bn.beta,
                        '2.running_mean': bn.running_mean, '2.running_var': bn.running_var}
        mismatches = [name for name, entry in expected.items()
                      if by_structure[name].data().asnumpy().tolist() != entry['values']]
        print(len(expected), 'arrays checked, mismatches:', mismatches)
        """),
        md("""
        A dtype mismatch is an error, not a silent conversion. `dense_float16.params` holds
        float16 values; a float32 layer refuses them unless you ask for a cast.
        """),
        code("""
        half = os.path.join(DATA, 'dense_float16.params')
        layer = nn.Dense(2, in_units=3)
        try:
            layer.load_parameters(half, ctx=device)
        except TypeError as err:
            print('TypeError -', err)
        layer.load_parameters(half, ctx=device, cast_dtype=True, dtype_source='current')
        print(layer.weight.dtype, layer.weight.data())
        """),
        md("""
        ## Fine-tuning

        Freeze the embedding (`grad_req='null'`) and train the Dense and BatchNorm layers to
        sort the six tokens into three classes: tokens 0-1, 2-3 and 4-5. BatchNorm's running
        mean and variance are not trained by gradients: the forward passes in training mode
        (inside `autograd.record()`) update them.
        """),
        code("""
        net[0].collect_params().setattr('grad_req', 'null')
        tokens = nd.array([0, 1, 2, 3, 4, 5], ctx=device)
        labels = nd.array([0, 0, 1, 1, 2, 2], ctx=device)
        loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
        trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.5})

        losses = []
        for _ in range(40):
            with autograd.record():
                loss = loss_fn(net(tokens), labels)
            loss.backward()
            trainer.step(len(tokens))
            losses.append(float(loss.mean().asscalar()))
        predicted = net(tokens).argmax(axis=1).asnumpy().tolist()
        print(f'loss: {losses[0]:.3f} -> {losses[-1]:.3f}   predicted classes: {predicted}')
        """),
        md("""
        ## Saving, and what changed

        `save_parameters` writes the MXNet format again (the extension chooses: `.params`
        for MXNet, `.npz` for NumPy, `.safetensors`). Comparing the saved file with the
        original shows which arrays fine-tuning changed.
        """),
        code("""
        tuned = os.path.join(OUT, 'block_emb_dense_bn-tuned.params')
        net.save_parameters(tuned)
        paramlab_inspect(tuned)

        old, new = nd.load(original), nd.load(tuned)
        changes = {name: divergence(old[name], new[name]) for name in old}
        for name, d in changes.items():
            print(f'{name:16s} changed: {not d.bitwise_equal!s:5s} max |diff| {d.max_abs_diff:.4f}')
        """),
        md("""
        A fresh network that loads the saved file computes exactly the same outputs, and the
        NumPy `.npz` copy holds the same values.
        """),
        code("""
        reloaded = make_net()
        reloaded.load_parameters(tuned, ctx=device)
        same_outputs = bool((reloaded(tokens).asnumpy() == net(tokens).asnumpy()).all())

        as_npz = os.path.join(OUT, 'block_emb_dense_bn-tuned.npz')
        net.save_parameters(as_npz)
        npz_report = inspect_file(as_npz)
        same_outputs, npz_report['format'], [a['name'] for a in npz_report['arrays']]
        """),
        md("""
        ## What this lesson showed

        * `paramlab inspect` reads MXNet's files directly; every value matches what MXNet wrote.
        * `load_parameters` takes shapes from the file and refuses a dtype change unless asked.
        * Fine-tuning with a frozen embedding leaves it bitwise unchanged, while the trained
          layers and BatchNorm's running statistics change.
        """),
        code("""
        assert inspect_status == 0 and mismatches == []
        assert losses[-1] < losses[0] / 2 and predicted == [0, 0, 1, 1, 2, 2]
        assert changes['0.weight'].bitwise_equal
        assert not changes['1.weight'].bitwise_equal
        assert not changes['2.running_mean'].bitwise_equal
        assert same_outputs and npz_report['format'] == 'npz'
        assert os.path.dirname(tuned) == OUT
        print('lesson 7 complete')
        """),
    ]


# ---------------------------------------------------------------------------------------------
# 09 Running MXNet notebooks
# ---------------------------------------------------------------------------------------------
def nb09():
    return [
        md("""
        # 9. Running MXNet notebooks unchanged

        Much teaching material for MXNet exists, such as the MXNet edition of *Dive into Deep
        Learning* (d2l.ai), written with `from mxnet import ...`. paramlab can stand in for
        `mxnet`: after `paramlab.compat.install()`, `import mxnet` gives paramlab. The next
        cell is the only line that is not MXNet code; everything after it is an ordinary
        MXNet lesson in d2l's NumPy style (`np`, `npx`, `npx.set_np()`), untouched.
        """),
        code("""
        import paramlab.compat
        paramlab.compat.install()
        """),
        md("""
        ---
        ## Linear regression, the concise way

        We generate a data set from a known linear model, then let Gluon find the weights
        again.
        """),
        code("""
        from mxnet import autograd, gluon, init, np, npx
        from mxnet.gluon import nn
        npx.set_np()
        """),
        code("""
        def try_gpu(i=0):
            \"\"\"Return gpu(i) if it exists, otherwise cpu().\"\"\"
            return npx.gpu(i) if npx.num_gpus() >= i + 1 else npx.cpu()

        def synthetic_data(w, b, num_examples):
            \"\"\"Generate y = Xw + b + noise.\"\"\"
            X = np.random.normal(0, 1, (num_examples, len(w)))
            y = np.dot(X, w) + b
            y += np.random.normal(0, 0.01, y.shape)
            return X, y.reshape((-1, 1))

        true_w = np.array([2, -3.4])
        true_b = 4.2
        features, labels = synthetic_data(true_w, true_b, 1000)
        print('features:', features[0], '\\nlabel:', labels[0])
        """),
        md("""
        A `DataLoader` serves shuffled minibatches.
        """),
        code("""
        def load_array(data_arrays, batch_size, is_train=True):
            \"\"\"Construct a Gluon data iterator.\"\"\"
            dataset = gluon.data.ArrayDataset(*data_arrays)
            return gluon.data.DataLoader(dataset, batch_size, shuffle=is_train)

        batch_size = 10
        data_iter = load_array((features, labels), batch_size)
        next(iter(data_iter))[0].shape
        """),
        md("""
        The model is one `Dense` layer with a single output. Its input size is left to
        deferred initialization.
        """),
        code("""
        net = nn.Sequential()
        net.add(nn.Dense(1))
        net.initialize(init.Normal(sigma=0.01), ctx=try_gpu())
        loss = gluon.loss.L2Loss()
        trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.03})
        """),
        code("""
        ctx = try_gpu()
        num_epochs = 3
        for epoch in range(num_epochs):
            for X, y in data_iter:
                X, y = X.as_in_ctx(ctx), y.as_in_ctx(ctx)
                with autograd.record():
                    l = loss(net(X), y)
                l.backward()
                trainer.step(batch_size)
            l = loss(net(features.as_in_ctx(ctx)), labels.as_in_ctx(ctx))
            print(f'epoch {epoch + 1}, loss {l.mean().asnumpy():f}')
        """),
        code("""
        w = net[0].weight.data().as_in_ctx(npx.cpu())
        print(f'error in estimating w: {true_w - w.reshape(true_w.shape)}')
        b = net[0].bias.data().as_in_ctx(npx.cpu())
        print(f'error in estimating b: {true_b - b}')
        """),
        md("""
        ## Parameter access, saving and loading
        """),
        code("""
        print(net[0].params)
        print(net[0].weight.grad().shape, net[0].bias.data().ctx)
        """),
        code("""
        import os, tempfile
        fname = os.path.join(tempfile.mkdtemp(), 'linreg.params')
        net.save_parameters(fname)
        clone = nn.Sequential()
        clone.add(nn.Dense(1))
        clone.load_parameters(fname, ctx=try_gpu())
        X_probe = np.random.normal(0, 1, (4, 2)).as_in_ctx(try_gpu())
        clone(X_probe) == net(X_probe)
        """),
        md("""
        ---
        ## What this lesson showed

        After `paramlab.compat.install()`, `mxnet` is paramlab: the lesson above ran as
        written, in NumPy mode, and recovered the true parameters.
        """),
        code("""
        import mxnet
        import paramlab
        assert mxnet is paramlab and paramlab.compat.installed()
        assert isinstance(features, paramlab.np.ndarray)
        assert float(np.abs(true_w - w.reshape(true_w.shape)).max()) < 0.01
        assert abs(true_b - float(b[0])) < 0.01
        assert (clone(X_probe) == net(X_probe)).asnumpy().all()
        print('lesson 9 complete')
        """),
    ]


BUILDERS = {
    "01_parameters_and_contexts": nb01,
    "02_initializers": nb02,
    "03_gradients_write_add_null": nb03,
    "04_deferred_initialization": nb04,
    "05_multi_device_training": nb05,
    "06_sparse_parameters": nb06,
    "07_checkpoints": nb07,
    "09_running_mxnet_notebooks": nb09,
}


def build(stem):
    """The notebook ``stem`` (e.g. ``'02_initializers'``), outputs stripped, stable cell ids."""
    cells = BUILDERS[stem]()
    for index, cell in enumerate(cells):
        cell["id"] = f"{stem[:2]}-{index:02d}"
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main(argv):
    wanted = [s for s in BUILDERS if not argv or s[:2] in argv or s in argv]
    unknown = [a for a in argv if not any(a in (s, s[:2]) for s in BUILDERS)]
    if unknown:
        raise SystemExit(f"unknown notebook(s): {unknown}; choose from {list(BUILDERS)}")
    for stem in wanted:
        path = NOTEBOOKS / f"{stem}.ipynb"
        nbformat.write(build(stem), path)
        print("wrote", path.relative_to(ROOT))


if __name__ == "__main__":
    main(sys.argv[1:])
