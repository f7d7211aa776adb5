"""The DataLoader: batches of samples stacked into NDArrays."""

from __future__ import annotations

import numpy as np

from ... import ndarray as nd
from ...ndarray._keywords import mxnet_keywords
from ...ndarray.ndarray import NDArray
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_batchify_fn"]


def default_batchify_fn(data):
    """Stack samples: NDArrays with ``nd.stack``, tuples element-wise, numbers into an array."""
    first = data[0]
    if isinstance(first, NDArray):
        return nd.stack(*data)
    if isinstance(first, tuple):
        return [default_batchify_fn(list(column)) for column in zip(*data)]
    host = np.asarray(data)
    return nd.array(host, dtype=host.dtype if host.dtype.kind in "iub" else None)


class DataLoader:
    """Iterate over a dataset in mini-batches.

    Parameters
    ----------
    dataset : Dataset
    batch_size : int
    shuffle : bool
        Visit samples in a new random order each epoch (paramlab's seeded stream).
    last_batch : {'keep', 'discard', 'rollover'}
    sampler, batch_sampler, batchify_fn
        As in MXNet. ``num_workers`` and MXNet's worker options (``pin_memory``, ``prefetch``,
        ``thread_pool``, ``timeout``, ...) are accepted; loading runs in the main process.
    """

    @mxnet_keywords(
        "pin_memory", "pin_device_id", "prefetch", "thread_pool", "timeout", "auto_reload"
    )
    def __init__(
        self,
        dataset,
        batch_size=None,
        shuffle=False,
        sampler=None,
        last_batch=None,
        batch_sampler=None,
        batchify_fn=None,
        num_workers=0,
        **kwargs,
    ):
        self._dataset = dataset
        if batch_sampler is None:
            if batch_size is None:
                raise ValueError(
                    "DataLoader: batch_size is required when no batch_sampler is given"
                )
            if sampler is None:
                sampler = (
                    RandomSampler(len(dataset)) if shuffle else SequentialSampler(len(dataset))
                )
            elif shuffle:
                raise ValueError("DataLoader: shuffle must not be set when a sampler is given")
            batch_sampler = BatchSampler(sampler, batch_size, last_batch or "keep")
        elif batch_size is not None or shuffle or sampler is not None or last_batch is not None:
            raise ValueError(
                "DataLoader: batch_size, shuffle, sampler and last_batch must not be given with "
                "a batch_sampler"
            )
        self._batch_sampler = batch_sampler
        self._batchify = batchify_fn or default_batchify_fn

    def __iter__(self):
        for batch in self._batch_sampler:
            yield self._batchify([self._dataset[i] for i in batch])

    def __len__(self):
        return len(self._batch_sampler)
