"""A row-sparse gradient flowing through the engine (e.g. from ``Embedding(sparse_grad=True)``).

Only the rows an operation touched are stored. Adding two of them merges their
rows; adding one to a dense raw array gives a dense array. A dense gradient
buffer densifies it; a row_sparse buffer (``RowSparseNDArray``) keeps it sparse.
"""

from __future__ import annotations

import dataclasses

from .._backend import xp_of

__all__ = ["RowSparseGrad"]


@dataclasses.dataclass(frozen=True)
class RowSparseGrad:
    """Rows ``indices`` (sorted, unique, int64) of a gradient of dense shape ``shape``.

    ``values`` has shape ``(len(indices),) + shape[1:]``.
    """

    indices: object
    values: object
    shape: tuple

    __array_ufunc__ = None  # make NumPy defer ``dense + RowSparseGrad`` to __radd__

    @property
    def dtype(self):
        return self.values.dtype

    @classmethod
    def from_rows(cls, rows, values, shape):
        """Sum ``values`` of possibly repeated ``rows`` into sorted unique rows."""
        xp = xp_of(values)
        rows = rows.reshape(-1).astype(xp.int64)
        values = values.reshape((rows.shape[0],) + tuple(shape[1:]))
        uniq, inverse = xp.unique(rows, return_inverse=True)
        summed = xp.zeros((uniq.shape[0],) + tuple(shape[1:]), values.dtype)
        xp.add.at(summed, inverse.reshape(-1), values)
        return cls(uniq, summed, tuple(shape))

    def to_dense(self):
        """The full dense raw array."""
        xp = xp_of(self.values)
        out = xp.zeros(self.shape, self.values.dtype)
        out[self.indices] = self.values
        return out

    def __add__(self, other):
        if isinstance(other, RowSparseGrad):
            xp = xp_of(self.values)
            return RowSparseGrad.from_rows(
                xp.concatenate([self.indices, other.indices]),
                xp.concatenate([self.values, other.values]),
                self.shape,
            )
        dense = other.copy()
        dense[self.indices] += self.values
        return dense

    __radd__ = __add__
