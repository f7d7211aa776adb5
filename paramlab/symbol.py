"""``mx.sym``: the minimal Symbol that ``Parameter.var()`` returns.

A Symbol is a node of a small expression graph: a variable (with MXNet's
string attributes such as ``__shape__`` and ``__init__``), an arithmetic
combination of symbols, or a group of them. It describes; it never computes.

>>> import paramlab as mx
>>> w = mx.sym.var('w', shape=(2, 3), lr_mult=2)
>>> w.attr('__shape__'), w.attr('__lr_mult__')
('(2, 3)', '2')
>>> (w * 2 + mx.sym.var('b')).list_arguments()
['w', 'b']
"""

from __future__ import annotations

import collections
import itertools
import numbers

import numpy as np

from ._dtypes import canonical

__all__ = ["Symbol", "var", "Variable", "Group", "DTYPE_FLAGS", "STYPE_FLAGS"]

DTYPE_FLAGS = {
    np.dtype("float32"): 0,
    np.dtype("float64"): 1,
    np.dtype("float16"): 2,
    np.dtype("uint8"): 3,
    np.dtype("int32"): 4,
    np.dtype("int8"): 5,
    np.dtype("int64"): 6,
    np.dtype("bool"): 7,
}
"""MXNet's type flags, as written in ``__dtype__`` and in ``.params`` files."""

STYPE_FLAGS = {"default": 0, "row_sparse": 1, "csr": 2}

_counters: collections.Counter = collections.Counter()


def _auto_name(op: str) -> str:
    n = _counters[op]
    _counters[op] += 1
    return f"_{op}{n}"


class Symbol:
    """A node of a symbolic graph: a variable, an operation on symbols, or a group."""

    def __init__(self, name, op=None, inputs=(), attrs=None, outputs=None):
        self._name = name
        self._op = op
        self._inputs = tuple(inputs)
        self._attrs = dict(attrs or {})
        self._outputs = outputs

    @property
    def name(self):
        """The node's name (None for a group)."""
        return self._name

    def attr(self, key):
        """One attribute as a string, or None."""
        return self._attrs.get(key)

    def list_attr(self, recursive=False):
        """This node's attributes (``recursive`` is accepted for compatibility)."""
        return dict(self._attrs)

    def attr_dict(self):
        """The attributes of every node that has some, keyed by node name."""
        out = {}
        for node in self._walk():
            if node._attrs:
                out[node._name] = dict(node._attrs)
        return out

    def _walk(self):
        seen, order = set(), []

        def visit(node):
            if id(node) in seen:
                return
            seen.add(id(node))
            for child in node._inputs:
                visit(child)
            order.append(node)

        visit(self)
        return order

    def list_arguments(self):
        """The names of the variables this graph depends on, in order of first use."""
        return [n._name for n in self._walk() if n._op is None and n._outputs is None]

    def list_outputs(self):
        """The names of this graph's outputs."""
        if self._outputs is not None:
            return [name for s in self._outputs for name in s.list_outputs()]
        if self._op is None:
            return [self._name]
        return [f"{self._name}_output"]

    def list_inputs(self):
        """The names of every input variable."""
        return self.list_arguments()

    def __iter__(self):
        return iter(self._outputs if self._outputs is not None else (self,))

    def __len__(self):
        return len(self._outputs) if self._outputs is not None else 1

    def __getitem__(self, index):
        return list(self)[index]

    def __repr__(self):
        if self._outputs is not None:
            return f"<Symbol group [{', '.join(s.name for s in self._outputs)}]>"
        return f"<Symbol {self._name}>"

    def _combine(self, other, op, reflected=False):
        if isinstance(other, Symbol):
            inputs = (other, self) if reflected else (self, other)
            return Symbol(_auto_name(op), op, inputs)
        if isinstance(other, numbers.Number):
            return Symbol(
                _auto_name(op + "_scalar"),
                op + "_scalar",
                (self,),
                {"scalar": str(other), "reflected": str(reflected)},
            )
        raise TypeError(f"Symbol: cannot combine with {type(other).__name__}")

    def __add__(self, o):
        return self._combine(o, "plus")

    def __radd__(self, o):
        return self._combine(o, "plus", True)

    def __sub__(self, o):
        return self._combine(o, "minus")

    def __rsub__(self, o):
        return self._combine(o, "minus", True)

    def __mul__(self, o):
        return self._combine(o, "mul")

    def __rmul__(self, o):
        return self._combine(o, "mul", True)

    def __truediv__(self, o):
        return self._combine(o, "div")

    def __rtruediv__(self, o):
        return self._combine(o, "div", True)

    def __neg__(self):
        return self * -1


def _init_string(init):
    if init is None:
        return None
    if isinstance(init, str):
        return init
    dumps = getattr(init, "dumps", None)
    if dumps is None:
        raise TypeError(f"var: init must be an Initializer or a string, got {type(init).__name__}")
    return dumps()


def var(
    name,
    attr=None,
    shape=None,
    lr_mult=None,
    wd_mult=None,
    dtype=None,
    init=None,
    stype=None,
    **kwargs,
):
    """A variable symbol with MXNet's attributes (all stored as strings).

    ``__shape__`` is ``str(shape)``, ``__dtype__`` MXNet's type flag,
    ``__lr_mult__`` / ``__wd_mult__`` ``str(value)``, ``__init__`` the initializer's
    ``dumps()`` (or the string given), ``__storage_type__`` '0', '1' or '2'.
    """
    if not isinstance(name, str):
        raise TypeError(f"var: name must be a string, got {name!r}")
    attrs = dict(attr or {})
    if shape is not None:
        attrs["__shape__"] = str(tuple(shape) if isinstance(shape, list) else shape)
    if lr_mult is not None:
        attrs["__lr_mult__"] = str(lr_mult)
    if wd_mult is not None:
        attrs["__wd_mult__"] = str(wd_mult)
    if dtype is not None:
        attrs["__dtype__"] = str(DTYPE_FLAGS[canonical(dtype, "var: dtype")])
    init_text = _init_string(init)
    if init_text is not None:
        attrs["__init__"] = init_text
    if stype is not None:
        if stype not in STYPE_FLAGS:
            raise ValueError(f"var: stype must be one of {list(STYPE_FLAGS)}, got {stype!r}")
        attrs["__storage_type__"] = str(STYPE_FLAGS[stype])
    for key, value in kwargs.items():
        attrs[f"__{key}__" if not key.startswith("__") else key] = str(value)
    return Symbol(name, attrs=attrs)


Variable = var


def Group(symbols):
    """A symbol whose outputs are those of ``symbols``."""
    symbols = list(symbols)
    for s in symbols:
        if not isinstance(s, Symbol):
            raise TypeError(f"Group: expected Symbols, got {type(s).__name__}")
    return Symbol(None, inputs=symbols, outputs=list(itertools.chain.from_iterable(symbols)))
