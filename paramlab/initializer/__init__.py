"""``mx.init`` (also ``mx.initializer``): MXNet's initializers, drawn on the array's device.

An initializer fills an NDArray in place: ``init(mx.init.InitDesc(name), arr)``.
Every built-in states what it draws through :meth:`Initializer.theory`, a
:class:`Theory` with the family, parameters, mean, std, support, and exact
``pdf``/``cdf`` where a density exists (or an invariant where none does).

>>> import paramlab as mx
>>> w = mx.nd.zeros((256, 512))
>>> mx.init.Xavier()(mx.init.InitDesc('dense0_weight'), w)
>>> t = mx.init.Xavier().theory(w.shape)
>>> t.family, t.params['high'] == (6 / 768) ** 0.5
('uniform', True)
>>> bool(t.support[0] <= w.min().asscalar() and w.max().asscalar() <= t.support[1])
True
>>> mx.init.create('["constant", {"value": 2.5}]') == mx.init.Constant(2.5)
True
"""

from ._base import (
    NAME_RULES,
    InitDesc,
    Initializer,
    InitializerDtypeError,
    UnknownInitializerError,
)
from ._builtin import (
    Bilinear,
    Constant,
    LSTMBias,
    MSRAPrelu,
    Normal,
    One,
    Orthogonal,
    Uniform,
    Xavier,
    Zero,
)
from ._composite import FusedRNN, Load, Mixed
from ._registry import alias, create, register, registered
from ._theory import Theory

__all__ = [
    "InitDesc",
    "Initializer",
    "Theory",
    "register",
    "alias",
    "create",
    "registered",
    "NAME_RULES",
    "InitializerDtypeError",
    "UnknownInitializerError",
    "Zero",
    "One",
    "Constant",
    "Uniform",
    "Normal",
    "Orthogonal",
    "Xavier",
    "MSRAPrelu",
    "Bilinear",
    "LSTMBias",
    "FusedRNN",
    "Mixed",
    "Load",
]
