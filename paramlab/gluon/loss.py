"""``mx.gluon.loss``: losses that return one value per sample (mean over the other axes)."""

from __future__ import annotations

from .. import ndarray as nd
from .block import HybridBlock

__all__ = [
    "Loss", "L2Loss", "L1Loss", "SoftmaxCrossEntropyLoss", "SoftmaxCELoss",
    "SigmoidBinaryCrossEntropyLoss", "SigmoidBCELoss",
]  # fmt: skip


def _check_same_size(name, pred, label):
    if pred.size != label.size:
        raise ValueError(
            f"{name}: label of shape {label.shape} does not match prediction of shape {pred.shape}"
        )


class Loss(HybridBlock):
    """The base of the losses: ``weight`` scales the loss; ``batch_axis`` is kept."""

    def __init__(self, weight=None, batch_axis=0, **kwargs):
        super().__init__(**kwargs)
        self._weight, self._batch_axis = weight, batch_axis

    def _finish(self, loss, sample_weight):
        if sample_weight is not None:
            loss = loss * sample_weight
        if self._weight is not None:
            loss = loss * self._weight
        if loss.ndim <= 1:
            return loss
        return loss.mean(axis=self._batch_axis, exclude=True)

    def __repr__(self):
        return f"{type(self).__name__}(batch_axis={self._batch_axis}, w={self._weight})"


class L2Loss(Loss):
    """``weight / 2 * (pred - label) ** 2``, averaged per sample."""

    def __init__(self, weight=1.0, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)

    def forward(self, pred, label, sample_weight=None):
        _check_same_size("L2Loss", pred, label)
        loss = (pred - label.reshape(pred.shape)).square()
        return self._finish(loss, sample_weight) / 2


class L1Loss(Loss):
    """``weight * |pred - label|``, averaged per sample."""

    def __init__(self, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)

    def forward(self, pred, label, sample_weight=None):
        _check_same_size("L1Loss", pred, label)
        return self._finish((pred - label.reshape(pred.shape)).abs(), sample_weight)


class SoftmaxCrossEntropyLoss(Loss):
    """Cross entropy of ``softmax(pred)`` against class indices (or distributions).

    With ``sparse_label=True`` (the default) ``label`` holds class indices;
    otherwise a probability distribution per sample. ``from_logits=True`` means
    ``pred`` already is a log-softmax.
    """

    def __init__(
        self, axis=-1, sparse_label=True, from_logits=False, weight=None, batch_axis=0, **kwargs
    ):
        super().__init__(weight, batch_axis, **kwargs)
        self._axis, self._sparse_label, self._from_logits = axis, sparse_label, from_logits

    def forward(self, pred, label, sample_weight=None):
        logp = pred if self._from_logits else nd.log_softmax(pred, axis=self._axis)
        if self._sparse_label:
            expected = tuple(n for i, n in enumerate(pred.shape) if i != self._axis % pred.ndim)
            if label.size != int(nd_prod(expected)):
                raise ValueError(
                    f"SoftmaxCrossEntropyLoss: sparse labels must have shape {expected}, got "
                    f"{label.shape} for predictions of shape {pred.shape}"
                )
            loss = -nd.pick(logp, label, axis=self._axis, keepdims=True)
        else:
            _check_same_size("SoftmaxCrossEntropyLoss", pred, label)
            loss = -(logp * label.reshape(pred.shape)).sum(axis=self._axis, keepdims=True)
        return self._finish(loss, sample_weight)


SoftmaxCELoss = SoftmaxCrossEntropyLoss


class SigmoidBinaryCrossEntropyLoss(Loss):
    """Binary cross entropy of ``sigmoid(pred)`` (or of ``pred`` with ``from_sigmoid``)."""

    def __init__(self, from_sigmoid=False, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._from_sigmoid = from_sigmoid

    def forward(self, pred, label, sample_weight=None, pos_weight=None):
        _check_same_size("SigmoidBinaryCrossEntropyLoss", pred, label)
        label = label.reshape(pred.shape)
        if not self._from_sigmoid:
            # max(x, 0) - x * z + log(1 + exp(-|x|)), stable for large |x|
            if pos_weight is None:
                loss = pred.relu() - pred * label + (-pred.abs()).softrelu()
            else:
                log_weight = (pos_weight - 1) * label + 1
                loss = (
                    pred - pred * label + log_weight * ((-pred.abs()).softrelu() + (-pred).relu())
                )
        else:
            eps = 1e-12
            if pos_weight is None:
                loss = -((pred + eps).log() * label + (1 - pred + eps).log() * (1 - label))
            else:
                loss = -(
                    (pred + eps).log() * label * pos_weight + (1 - pred + eps).log() * (1 - label)
                )
        return self._finish(loss, sample_weight)


SigmoidBCELoss = SigmoidBinaryCrossEntropyLoss


def nd_prod(dims):
    out = 1
    for d in dims:
        out *= d
    return out
