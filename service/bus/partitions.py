"""Kafka's default partition of many keys at once: murmur2 (the Java client's, as aiokafka's
:class:`~aiokafka.partitioner.DefaultPartitioner`) over numpy arrays.

aiokafka's murmur2 is pure Python, some microseconds a key: a million ``haze.actions``
records would spend seconds on it alone. Keys of one length are hashed together, four bytes
of every key per step, in ``uint32`` arithmetic (which wraps as the Java ``int`` does).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_SEED = np.uint32(0x9747B28C)
_M = np.uint32(0x5BD1E995)


def murmur2(keys: Sequence[bytes]) -> np.ndarray:
    """The murmur2 hash of every key, as ``uint32`` (aiokafka's ``murmur2(key)``)."""
    out = np.zeros(len(keys), dtype=np.uint32)
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    for length in np.unique(lengths).tolist():
        where = np.flatnonzero(lengths == length)
        chosen = [keys[i] for i in where.tolist()]
        data = np.frombuffer(b"".join(chosen), dtype=np.uint8).reshape(len(chosen), length)
        out[where] = _murmur2_of_length(data, length)
    return out


def _murmur2_of_length(data: np.ndarray, length: int) -> np.ndarray:
    """Hashes of the rows of ``data`` (``(n, length)`` bytes)."""
    with np.errstate(over="ignore"):
        h = np.full(len(data), _SEED ^ np.uint32(length & 0xFFFFFFFF), dtype=np.uint32)
        words = data[:, : length // 4 * 4].astype(np.uint32)
        for i in range(0, length // 4 * 4, 4):
            k = words[:, i] | (words[:, i + 1] << 8) | (words[:, i + 2] << 16)
            k |= words[:, i + 3] << 24
            k *= _M
            k ^= k >> np.uint32(24)
            k *= _M
            h *= _M
            h ^= k
        tail = data[:, length // 4 * 4 :].astype(np.uint32)
        extra = length % 4
        if extra >= 3:
            h ^= tail[:, 2] << 16
        if extra >= 2:
            h ^= tail[:, 1] << 8
        if extra >= 1:
            h ^= tail[:, 0]
            h *= _M
        h ^= h >> np.uint32(13)
        h *= _M
        h ^= h >> np.uint32(15)
    return h


def partitions_of(keys: Sequence[bytes], partitions: Sequence[int]) -> np.ndarray:
    """The partition the default partitioner picks for each (non-None) key."""
    choices = np.asarray(partitions, dtype=np.int64)
    return choices[(murmur2(keys) & np.uint32(0x7FFFFFFF)).astype(np.int64) % len(choices)]
