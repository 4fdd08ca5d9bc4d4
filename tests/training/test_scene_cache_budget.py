"""Loaded training scenes are kept within a memory budget per process, shared among its workers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from beep3d.training.datasets import build_datasets, prepared_bytes
from tests.training.test_fixed_labels import small_config
from tests.training_fakes import write_rooms


@pytest.mark.parametrize("workers", [0, 2])
def test_scenes_are_kept_only_while_they_fit_the_budget(tmp_path, workers):
    write_rooms(tmp_path, 3)
    train, *_ = build_datasets(tmp_path, small_config(num_workers=workers))
    one = prepared_bytes(train.prepared(0))
    assert one > 0
    # room for about two scenes per process: the third is loaded again next time
    budget_mb = 2.5 * one * max(1, workers) / 2**20
    train, *_ = build_datasets(
        tmp_path, replace(small_config(num_workers=workers), cache_megabytes=budget_mb)
    )
    for index in range(len(train)):
        train.prepared(index)
    assert len(train._cache) == 2
    assert train.prepared(2) is not train.prepared(2)  # not kept
    assert train.prepared(0) is train.prepared(0)  # kept


def test_no_budget_keeps_nothing(tmp_path):
    write_rooms(tmp_path, 2)
    train, *_ = build_datasets(tmp_path, small_config(cache_megabytes=0))
    train.prepared(0)
    assert train._cache == {}
