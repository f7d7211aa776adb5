"""Elementwise arithmetic and math, with NumPy broadcasting."""

from __future__ import annotations

from .._autograd import Function
from .._backend import xp_of
from ._broadcast import unbroadcast

# ----------------------------------------------------------------------------- binary


class _Binary(Function):
    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape
        return self.compute(a, b)

    def reduce(self, ga, gb):
        return (
            None if ga is None else unbroadcast(ga, self.a_shape),
            None if gb is None else unbroadcast(gb, self.b_shape),
        )


class Add(_Binary):
    def compute(self, a, b):
        return a + b

    def backward(self, g):
        return self.reduce(g, g)


class Subtract(_Binary):
    def compute(self, a, b):
        return a - b

    def backward(self, g):
        return self.reduce(g, -g if self.needs_input_grad[1] else None)


class Multiply(_Binary):
    def compute(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        return self.reduce(g * self.b if need_a else None, g * self.a if need_b else None)


class Divide(_Binary):
    def compute(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        ga = g / self.b if need_a else None
        gb = -g * self.a / (self.b * self.b) if need_b else None
        return self.reduce(ga, gb)


class Power(_Binary):
    def compute(self, a, b):
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, g):
        xp = xp_of(g)
        need_a, need_b = self.needs_input_grad
        ga = g * self.b * self.a ** (self.b - 1) if need_a else None
        gb = None
        if need_b:
            safe = xp.where(self.a > 0, self.a, 1)
            gb = g * self.out * xp.log(safe)
        return self.reduce(ga, gb)


class _MinMax(_Binary):
    def backward(self, g):
        xp = xp_of(g)
        take_a = self.pick_a
        return self.reduce(xp.where(take_a, g, 0), xp.where(take_a, 0, g))


class Maximum(_MinMax):
    def compute(self, a, b):
        self.pick_a = a >= b
        return xp_of(a).maximum(a, b)


class Minimum(_MinMax):
    def compute(self, a, b):
        self.pick_a = a <= b
        return xp_of(a).minimum(a, b)


# ----------------------------------------------------------------------------- with a scalar


class _Scalar(Function):
    def __init__(self, scalar):
        self.s = scalar


class AddScalar(_Scalar):
    def forward(self, a):
        return a + self.s

    def backward(self, g):
        return (g,)


class SubtractScalar(_Scalar):  # a - s
    def forward(self, a):
        return a - self.s

    def backward(self, g):
        return (g,)


class RSubtractScalar(_Scalar):  # s - a
    def forward(self, a):
        return self.s - a

    def backward(self, g):
        return (-g,)


class MultiplyScalar(_Scalar):
    def forward(self, a):
        return a * self.s

    def backward(self, g):
        return (g * self.s,)


class DivideScalar(_Scalar):  # a / s
    def forward(self, a):
        return a / self.s

    def backward(self, g):
        return (g / self.s,)


class RDivideScalar(_Scalar):  # s / a
    def forward(self, a):
        self.a = a
        return self.s / a

    def backward(self, g):
        return (-g * self.s / (self.a * self.a),)


class PowerScalar(_Scalar):  # a ** s
    def forward(self, a):
        self.a = a
        return a**self.s

    def backward(self, g):
        return (g * self.s * self.a ** (self.s - 1),)


class RPowerScalar(_Scalar):  # s ** a
    def forward(self, a):
        self.out = self.s**a
        return self.out

    def backward(self, g):
        import math

        return (g * self.out * math.log(self.s),)


class MaximumScalar(_Scalar):
    def forward(self, a):
        self.mask = a >= self.s
        return xp_of(a).maximum(a, self.s).astype(a.dtype, copy=False)

    def backward(self, g):
        return (g * self.mask,)


class MinimumScalar(_Scalar):
    def forward(self, a):
        self.mask = a <= self.s
        return xp_of(a).minimum(a, self.s).astype(a.dtype, copy=False)

    def backward(self, g):
        return (g * self.mask,)


class Clip(Function):
    def __init__(self, a_min, a_max):
        self.lo, self.hi = a_min, a_max

    def forward(self, a):
        self.mask = (a >= self.lo) & (a <= self.hi)
        return xp_of(a).clip(a, self.lo, self.hi).astype(a.dtype, copy=False)

    def backward(self, g):
        return (g * self.mask,)


# ----------------------------------------------------------------------------- unary


class Negative(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return (-g,)


class Identity(Function):
    """A copy that keeps the graph (``copy()``, ``detach`` excluded)."""

    def forward(self, a):
        return a.copy()

    def backward(self, g):
        return (g,)


class Cast(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, a):
        self.src = a.dtype
        return a.astype(self.dtype, copy=True)

    def backward(self, g):
        return (g.astype(self.src, copy=False),)


class Exp(Function):
    def forward(self, a):
        self.out = xp_of(a).exp(a)
        return self.out

    def backward(self, g):
        return (g * self.out,)


class Log(Function):
    def forward(self, a):
        self.a = a
        return xp_of(a).log(a)

    def backward(self, g):
        return (g / self.a,)


class Log1p(Function):
    def forward(self, a):
        self.a = a
        return xp_of(a).log1p(a)

    def backward(self, g):
        return (g / (1 + self.a),)


class Expm1(Function):
    def forward(self, a):
        self.a = a
        return xp_of(a).expm1(a)

    def backward(self, g):
        return (g * xp_of(g).exp(self.a),)


class Sqrt(Function):
    def forward(self, a):
        self.out = xp_of(a).sqrt(a)
        return self.out

    def backward(self, g):
        return (g / (2 * self.out),)


class Rsqrt(Function):
    def forward(self, a):
        self.out = 1 / xp_of(a).sqrt(a)
        return self.out

    def backward(self, g):
        return (-0.5 * g * self.out**3,)


class Square(Function):
    def forward(self, a):
        self.a = a
        return a * a

    def backward(self, g):
        return (2 * g * self.a,)


class Reciprocal(Function):
    def forward(self, a):
        self.out = 1 / a
        return self.out

    def backward(self, g):
        return (-g * self.out * self.out,)


class Abs(Function):
    def forward(self, a):
        self.sign = xp_of(a).sign(a)
        return abs(a)

    def backward(self, g):
        return (g * self.sign,)


class Sign(Function):
    def forward(self, a):
        self.shape, self.dtype = a.shape, a.dtype
        return xp_of(a).sign(a)

    def backward(self, g):
        return (xp_of(g).zeros(self.shape, self.dtype),)


class _NoGradUnary(Function):
    """Piecewise-constant functions: gradient zero almost everywhere."""

    def forward(self, a):
        self.shape, self.dtype = a.shape, a.dtype
        return getattr(xp_of(a), self.name)(a)

    def backward(self, g):
        return (xp_of(g).zeros(self.shape, self.dtype),)


class Floor(_NoGradUnary):
    name = "floor"


class Ceil(_NoGradUnary):
    name = "ceil"


class Round(_NoGradUnary):
    """MXNet's ``round``: halves away from zero (C ``round``)."""

    def forward(self, a):
        self.shape, self.dtype = a.shape, a.dtype
        xp = xp_of(a)
        t = xp.trunc(a)
        return (t + xp.sign(a) * (abs(a - t) >= 0.5)).astype(a.dtype, copy=False)


class Rint(_NoGradUnary):
    """MXNet's ``rint``: halves go down (towards -inf)."""

    def forward(self, a):
        self.shape, self.dtype = a.shape, a.dtype
        xp = xp_of(a)
        lo, hi = xp.floor(a), xp.ceil(a)
        return xp.where(a - lo <= hi - a, lo, hi).astype(a.dtype, copy=False)


class Around(_NoGradUnary):
    """NumPy's ``round``: halves to even (``mx.np.round``)."""

    name = "rint"


class Sin(Function):
    def forward(self, a):
        self.a = a
        return xp_of(a).sin(a)

    def backward(self, g):
        return (g * xp_of(g).cos(self.a),)


class Cos(Function):
    def forward(self, a):
        self.a = a
        return xp_of(a).cos(a)

    def backward(self, g):
        return (-g * xp_of(g).sin(self.a),)


class Tanh(Function):
    saves_inputs = False

    def forward(self, a):
        self.out = xp_of(a).tanh(a)
        return self.out

    def backward(self, g):
        return (g * (1 - self.out * self.out),)


class Sigmoid(Function):
    saves_inputs = False

    def forward(self, a):
        xp = xp_of(a)
        # 1 / (1 + exp(-a)) without overflow warnings for large |a|
        e = xp.exp(-abs(a))
        self.out = xp.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
        return self.out

    def backward(self, g):
        return (g * self.out * (1 - self.out),)


class Relu(Function):
    saves_inputs = False

    def forward(self, a):
        self.mask = a > 0
        return xp_of(a).where(self.mask, a, 0).astype(a.dtype, copy=False)  # no -0.0

    def backward(self, g):
        return (g * self.mask,)


class Softrelu(Function):
    def forward(self, a):
        xp = xp_of(a)
        self.a = a
        return xp.logaddexp(a, 0).astype(a.dtype, copy=False)

    def backward(self, g):
        return (g * Sigmoid().forward(self.a),)


class Softsign(Function):
    def forward(self, a):
        self.a = a
        return a / (1 + abs(a))

    def backward(self, g):
        d = 1 + abs(self.a)
        return (g / (d * d),)


class Erf(Function):
    def forward(self, a):
        from .._backend import special_module

        self.a = a
        return special_module(a).erf(a).astype(a.dtype, copy=False)

    def backward(self, g):
        import math

        return (g * (2 / math.sqrt(math.pi)) * xp_of(g).exp(-self.a * self.a),)


class Where(Function):
    """``where(cond, x, y)``; the condition gets no gradient."""

    def forward(self, cond, x, y):
        self.cond = cond != 0
        self.x_shape, self.y_shape = x.shape, y.shape
        return xp_of(x).where(self.cond, x, y)

    def backward(self, g):
        xp = xp_of(g)
        gx = unbroadcast(xp.where(self.cond, g, 0), self.x_shape)
        gy = unbroadcast(xp.where(self.cond, 0, g), self.y_shape)
        return None, gx, gy
