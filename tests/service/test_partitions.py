"""Kafka's default partition of many keys at once equals aiokafka's, key by key."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner, murmur2
from hypothesis import given, settings
from hypothesis import strategies as st

from service.bus.kafka import BULK_KEYS, KeyedPartitions, _by_partition
from service.bus.partitions import murmur2 as murmur2_many
from service.bus.partitions import partitions_of


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=60))
def test_murmur2_of_many_keys_is_aiokafkas(keys) -> None:
    assert murmur2_many(keys).tolist() == [murmur2(k) for k in keys]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(max_size=20).map(str.encode), min_size=1, max_size=60),
    st.lists(st.integers(0, 50), min_size=1, max_size=12, unique=True).map(sorted),
)
def test_partitions_of_many_keys_are_the_default_partitioners(keys, partitions) -> None:
    expected = [DefaultPartitioner()(k, partitions, partitions) for k in keys]
    assert partitions_of(keys, partitions).tolist() == expected


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=12), min_size=BULK_KEYS, max_size=BULK_KEYS + 50))
def test_a_large_publish_groups_its_records_as_one_by_one(keys) -> None:
    items = [(k, b"v") for k in keys]
    partitions = (0, 1, 2, 5)
    expected: dict[int, list[int]] = {}
    for i, key in enumerate(keys):
        expected.setdefault(DefaultPartitioner()(key, list(partitions), list(partitions)), [])
        expected[DefaultPartitioner()(key, list(partitions), list(partitions))].append(i)
    got = _by_partition("t", partitions, items, KeyedPartitions())
    assert got == expected  # the same rows per partition, in their order
