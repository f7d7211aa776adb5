"""Initialization diagnostics: per-layer activation and gradient statistics against theory.

:func:`init_report` runs one forward and one backward pass of a network at
initialization and measures, layer by layer, how the scale of the activations and
of the back-propagated gradients changes, next to what the layer's initializer and
activation predict (Glorot & Bengio 2010; He et al. 2015). Its findings name the
classic failures -- weights that do not break symmetry, dead ReLU layers,
saturated tanh/sigmoid layers, activations or gradients that vanish or explode
across depth, NaN/Inf, replicas that differ -- and each is also issued as an
:class:`InitWarning`. :func:`lsuv_init` (Mishkin & Matas 2015) is the fix it
suggests for scale problems.

All statistics go through :mod:`paramlab.summary`; nothing here imports a widget
library (the view lives in ``paramlab.widgets``).

>>> import paramlab as mx
>>> from paramlab import diagnostics
>>> net = mx.gluon.nn.Dense(8, activation='tanh', in_units=8)
>>> net.initialize(mx.init.Xavier())
>>> report = diagnostics.init_report(net, mx.nd.ones((4, 8)), warn=False)
>>> len(report), report[0].activation
(1, 'tanh')
"""

from ._findings import Thresholds
from ._lsuv import LSUVStep, lsuv_init
from ._measure import init_report
from ._report import Finding, InitReport, InitWarning, LayerReport

__all__ = [
    "init_report",
    "lsuv_init",
    "InitReport",
    "LayerReport",
    "Finding",
    "Thresholds",
    "InitWarning",
    "LSUVStep",
]
