"""``mx.optimizer``: weight-update rules, their registry, and the ``Updater`` that holds states.

>>> import paramlab as mx
>>> type(mx.optimizer.create('Adam', learning_rate=0.1)).__name__
'Adam'
>>> @mx.optimizer.register
... class Halve(mx.optimizer.Optimizer):
...     def update(self, index, weight, grad, state):
...         weight[:] = weight / 2
>>> type(mx.optimizer.create('halve')).__name__
'Halve'
"""

from .adam import LAMB, Adam, AdamW
from .adaptive import FTRL, AdaDelta, AdaGrad, Ftrl, RMSProp
from .optimizer import Optimizer, Updater, create, get_updater, register
from .sgd import NAG, SGD, Signum

__all__ = [
    "Optimizer",
    "Updater",
    "create",
    "register",
    "get_updater",
    "SGD",
    "NAG",
    "Signum",
    "Adam",
    "AdamW",
    "LAMB",
    "AdaGrad",
    "RMSProp",
    "AdaDelta",
    "Ftrl",
    "FTRL",
]
