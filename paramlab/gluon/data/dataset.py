"""Datasets: anything with ``__getitem__`` and ``__len__``."""

from __future__ import annotations

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset"]


class Dataset:
    """The base of datasets: ``__getitem__(i)`` and ``__len__()``."""

    def __getitem__(self, idx):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def transform(self, fn, lazy=True):
        """A dataset whose samples are ``fn(*sample)``."""
        return _Transformed(self, fn, unpack=True)

    def transform_first(self, fn, lazy=True):
        """A dataset whose samples have ``fn`` applied to their first element."""

        def first(*sample):
            return (fn(sample[0]), *sample[1:]) if len(sample) > 1 else fn(sample[0])

        return _Transformed(self, first, unpack=True)


class _Transformed(Dataset):
    def __init__(self, base, fn, unpack):
        self._base, self._fn, self._unpack = base, fn, unpack

    def __len__(self):
        return len(self._base)

    def __getitem__(self, idx):
        item = self._base[idx]
        return self._fn(*item) if self._unpack and isinstance(item, tuple) else self._fn(item)


class SimpleDataset(Dataset):
    """A dataset over a list (or anything indexable)."""

    def __init__(self, data):
        self._data = data

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]


class ArrayDataset(Dataset):
    """Several arrays of the same length, zipped: sample i is ``(a[i], b[i], ...)``."""

    def __init__(self, *args):
        if not args:
            raise ValueError("ArrayDataset: at least one array is required")
        self._length = len(args[0])
        for i, a in enumerate(args):
            if len(a) != self._length:
                raise ValueError(
                    f"ArrayDataset: all arrays must have the same length; array 0 has "
                    f"{self._length} items but array {i} has {len(a)}"
                )
        # as in MXNet, a 1-D NDArray yields plain numbers (so labels batch to shape (n,))
        self._data = tuple(
            a.asnumpy() if getattr(a, "ndim", None) == 1 and hasattr(a, "asnumpy") else a
            for a in args
        )

    def __len__(self):
        return self._length

    def __getitem__(self, idx):
        if not -self._length <= idx < self._length:
            raise IndexError(f"ArrayDataset index {idx} out of range for {self._length} items")
        if len(self._data) == 1:
            return self._data[0][idx]
        return tuple(a[idx] for a in self._data)
