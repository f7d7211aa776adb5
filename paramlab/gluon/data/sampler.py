"""Samplers: the order in which a DataLoader visits a dataset."""

from __future__ import annotations

from ... import random as _random

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "BatchSampler"]


class Sampler:
    """The base of samplers: an iterable of indices with a length."""

    def __iter__(self):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., length - 1."""

    def __init__(self, length, start=0):
        self._length, self._start = length, start

    def __iter__(self):
        return iter(range(self._start, self._start + self._length))

    def __len__(self):
        return self._length


class RandomSampler(Sampler):
    """A fresh permutation each epoch, drawn from paramlab's seeded stream."""

    def __init__(self, length):
        self._length = length

    def __iter__(self):
        return iter(int(i) for i in _random.draw_permutation(self._length))

    def __len__(self):
        return self._length


class BatchSampler(Sampler):
    """Group a sampler's indices into batches; ``last_batch`` is 'keep', 'discard' or 'rollover'."""

    def __init__(self, sampler, batch_size, last_batch="keep"):
        if last_batch not in ("keep", "discard", "rollover"):
            raise ValueError(
                f"BatchSampler: last_batch must be 'keep', 'discard' or 'rollover', got "
                f"{last_batch!r}"
            )
        if batch_size < 1:
            raise ValueError(f"BatchSampler: batch_size must be positive, got {batch_size}")
        self._sampler, self._batch_size, self._last_batch = sampler, batch_size, last_batch
        self._prev: list = []

    def __iter__(self):
        batch, self._prev = self._prev, []
        for i in self._sampler:
            batch.append(i)
            if len(batch) == self._batch_size:
                yield batch
                batch = []
        if batch:
            if self._last_batch == "keep":
                yield batch
            elif self._last_batch == "rollover":
                self._prev = batch

    def __len__(self):
        n = len(self._sampler)
        if self._last_batch == "keep":
            return (n + self._batch_size - 1) // self._batch_size
        if self._last_batch == "discard":
            return n // self._batch_size
        return (len(self._prev) + n) // self._batch_size
