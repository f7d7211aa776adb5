"""``mx.lr_scheduler``: learning rates that change with the number of updates.

A scheduler is called with ``num_update``, the largest number of times any
weight has been updated so far (the optimizer's ``num_update``), and returns the
learning rate to use. The numbers are MXNet 1.9.1's, including its habits:

- the first update asks for ``num_update == 1`` (the count is bumped first);
- :class:`FactorScheduler` and :class:`MultiFactorScheduler` remember what they
  did (they change ``base_lr`` as they go), so they only move forward;
- during warm-up (``num_update < warmup_steps``) the rate climbs linearly from
  ``warmup_begin_lr`` to ``base_lr`` or stays at ``warmup_begin_lr``
  (``warmup_mode='constant'``).

>>> import paramlab as mx
>>> s = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=1.0)
>>> [s(n) for n in range(1, 7)]
[1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
>>> c = mx.lr_scheduler.CosineScheduler(max_update=4, base_lr=1.0, warmup_steps=2)
>>> [round(c(n), 4) for n in range(6)]
[0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
"""

from __future__ import annotations

import logging
import math
import numbers

__all__ = [
    "LRScheduler",
    "FactorScheduler",
    "MultiFactorScheduler",
    "PolyScheduler",
    "CosineScheduler",
]

_WARMUP_MODES = ("linear", "constant")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_real(owner, name, value):
    if not _is_real(value):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    return value


class LRScheduler:
    """The base class: warm-up handling shared by every scheduler.

    Parameters
    ----------
    base_lr : float, default 0.01
        The rate once warm-up is over (the optimizer's ``learning_rate``, when
        given, replaces it).
    warmup_steps : int, default 0
        Number of updates spent warming up.
    warmup_begin_lr : float, default 0
        The rate warm-up starts from; must not exceed ``base_lr``.
    warmup_mode : {'linear', 'constant'}
        Climb linearly to ``base_lr``, or hold ``warmup_begin_lr``.
    """

    def __init__(self, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode="linear"):
        owner = type(self).__name__
        _check_real(owner, "base_lr", base_lr)
        _check_real(owner, "warmup_begin_lr", warmup_begin_lr)
        if not _is_int(warmup_steps):
            raise TypeError(f"{owner}: warmup_steps must be an int, got {warmup_steps!r}")
        if warmup_steps < 0:
            raise ValueError(f"{owner}: warmup_steps must be >= 0, got {warmup_steps}")
        if warmup_begin_lr > base_lr:
            raise ValueError(
                f"{owner}: base_lr ({base_lr}) has to be higher than warmup_begin_lr "
                f"({warmup_begin_lr})"
            )
        if warmup_mode not in _WARMUP_MODES:
            raise ValueError(
                f"{owner}: warmup_mode must be one of {list(_WARMUP_MODES)}, got {warmup_mode!r}"
            )
        self.base_lr = base_lr
        self.warmup_steps = int(warmup_steps)
        self.warmup_final_lr = base_lr
        self.warmup_begin_lr = warmup_begin_lr
        self.warmup_mode = warmup_mode

    def get_warmup_lr(self, num_update):
        """The warm-up rate at ``num_update`` (which must be below ``warmup_steps``)."""
        if not num_update < self.warmup_steps:
            raise ValueError(
                f"{type(self).__name__}: get_warmup_lr needs num_update < warmup_steps "
                f"({self.warmup_steps}), got {num_update}"
            )
        if self.warmup_mode == "constant":
            return self.warmup_begin_lr
        span = self.warmup_final_lr - self.warmup_begin_lr
        return self.warmup_begin_lr + span * float(num_update) / float(self.warmup_steps)

    def __call__(self, num_update):
        """The learning rate after ``num_update`` updates."""
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    def __repr__(self):
        return f"{type(self).__name__}(base_lr={self.base_lr})"

    # ------------------------------------------------------------------ checkpoints
    def _state(self) -> dict:
        """Every plain setting and counter (JSON-safe), for ``Trainer.save_states``."""
        out = {}
        for key, value in vars(self).items():
            if value is None or isinstance(value, (bool, int, float, str)):
                out[key] = value
            elif isinstance(value, (list, tuple)) and all(
                isinstance(v, (bool, int, float)) for v in value
            ):
                out[key] = list(value)
        return out

    def _restore(self, state: dict):
        """Put back what :meth:`_state` returned."""
        for key, value in state.items():
            setattr(self, key, value)


class FactorScheduler(LRScheduler):
    """Multiply the rate by ``factor`` every ``step`` updates, down to ``stop_factor_lr``.

    ``lr = base_lr * factor ** floor((num_update - 1) / step)`` (the change
    happens once ``num_update`` exceeds a multiple of ``step``).
    """

    def __init__(
        self,
        step,
        factor=1,
        stop_factor_lr=1e-8,
        base_lr=0.01,
        warmup_steps=0,
        warmup_begin_lr=0,
        warmup_mode="linear",
    ):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if not _is_real(step):
            raise TypeError(f"FactorScheduler: step must be an int, got {step!r}")
        if step < 1:
            raise ValueError(f"FactorScheduler: step must be >= 1 update, got {step}")
        _check_real("FactorScheduler", "factor", factor)
        if factor > 1.0:
            raise ValueError(
                f"FactorScheduler: factor must be <= 1 to reduce the rate, got {factor}"
            )
        self.step = step
        self.factor = factor
        self.stop_factor_lr = stop_factor_lr
        self.count = 0

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        while num_update > self.count + self.step:
            self.count += self.step
            self.base_lr *= self.factor
            if self.base_lr < self.stop_factor_lr:
                self.base_lr = self.stop_factor_lr
                logging.info(
                    "Update[%d]: learning rate reached its floor %0.5e", num_update, self.base_lr
                )
            else:
                logging.info("Update[%d]: learning rate is now %0.5e", num_update, self.base_lr)
        return self.base_lr


class MultiFactorScheduler(LRScheduler):
    """Multiply the rate by ``factor`` each time ``num_update`` passes one of ``step``.

    ``step`` is an increasing list of positive ints.
    """

    def __init__(
        self, step, factor=1, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode="linear"
    ):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if not isinstance(step, list) or not step:
            raise TypeError(
                f"MultiFactorScheduler: step must be a non-empty list of ints, got {step!r}"
            )
        for i, s in enumerate(step):
            if not _is_real(s):
                raise TypeError(f"MultiFactorScheduler: step[{i}] must be an int, got {s!r}")
            if s < 1:
                raise ValueError(
                    f"MultiFactorScheduler: every step must be >= 1 update, got step[{i}]={s}"
                )
            if i and s <= step[i - 1]:
                raise ValueError(
                    f"MultiFactorScheduler: step must be an increasing list, got {step}"
                )
        _check_real("MultiFactorScheduler", "factor", factor)
        if factor > 1.0:
            raise ValueError(
                f"MultiFactorScheduler: factor must be <= 1 to reduce the rate, got {factor}"
            )
        self.step = list(step)
        self.cur_step_ind = 0
        self.factor = factor
        self.count = 0

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        while self.cur_step_ind < len(self.step) and num_update > self.step[self.cur_step_ind]:
            self.count = self.step[self.cur_step_ind]
            self.cur_step_ind += 1
            self.base_lr *= self.factor
            logging.info("Update[%d]: learning rate is now %0.5e", num_update, self.base_lr)
        return self.base_lr


class _DecayToFinal(LRScheduler):
    """Shared by the polynomial and cosine schedules: decay from base to final over updates."""

    def __init__(self, max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr, warmup_mode):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        owner = type(self).__name__
        if not _is_int(max_update):
            raise TypeError(f"{owner}: max_update must be an int, got {max_update!r}")
        if max_update < 1:
            raise ValueError(f"{owner}: max_update must be strictly positive, got {max_update}")
        _check_real(owner, "final_lr", final_lr)
        self.base_lr_orig = self.base_lr
        self.max_update = int(max_update)
        self.final_lr = final_lr
        self.max_steps = self.max_update - self.warmup_steps

    def _shape(self, done):
        """The decay factor after ``done`` updates past warm-up (1 at 0, 0 at max_steps)."""
        raise NotImplementedError

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        if num_update <= self.max_update:
            done = num_update - self.warmup_steps
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * self._shape(done)
        return self.base_lr


class PolyScheduler(_DecayToFinal):
    """Polynomial decay: ``final_lr + (base_lr - final_lr) * (1 - progress) ** pwr``.

    ``progress = (num_update - warmup_steps) / (max_update - warmup_steps)``; after
    ``max_update`` the rate stays at ``final_lr``.
    """

    def __init__(
        self,
        max_update,
        base_lr=0.01,
        pwr=2,
        final_lr=0,
        warmup_steps=0,
        warmup_begin_lr=0,
        warmup_mode="linear",
    ):
        super().__init__(max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        _check_real("PolyScheduler", "pwr", pwr)
        self.power = pwr

    def _shape(self, done):
        return pow(1 - float(done) / float(self.max_steps), self.power)


class CosineScheduler(_DecayToFinal):
    """Cosine decay: ``final_lr + (base_lr - final_lr) * (1 + cos(pi * progress)) / 2``.

    ``progress`` as in :class:`PolyScheduler`.
    """

    def __init__(
        self,
        max_update,
        base_lr=0.01,
        final_lr=0,
        warmup_steps=0,
        warmup_begin_lr=0,
        warmup_mode="linear",
    ):
        super().__init__(max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr, warmup_mode)

    def _shape(self, done):
        return (1 + math.cos(math.pi * done / self.max_steps)) / 2
