"""Differentiable primitives on raw arrays, one family per module.

Each operation is a short :class:`~paramlab._autograd.Function` subclass; the
NDArray methods and the ``mx.nd`` functions call them through
:func:`~paramlab._autograd.apply`.
"""
