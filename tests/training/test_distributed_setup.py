"""Process-group setup: the timeout given to init_process_group and the barrier's device."""

from __future__ import annotations

from datetime import timedelta

import pytest
import torch.distributed as dist

from beep3d.training import distributed
from beep3d.training.distributed import DistInfo, barrier, init_distributed


@pytest.fixture
def two_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(dist, "is_initialized", lambda: False)


def record_init(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    calls: list[dict] = []
    monkeypatch.setattr(dist, "init_process_group", lambda **kwargs: calls.append(kwargs))
    return calls


@pytest.mark.parametrize("device_type, backend", [("cpu", "gloo"), ("cuda", "nccl")])
def test_the_process_group_waits_hours_not_nccls_ten_minutes(
    two_process_env: None, monkeypatch: pytest.MonkeyPatch, device_type: str, backend: str
) -> None:
    calls = record_init(monkeypatch)
    monkeypatch.setattr("torch.cuda.set_device", lambda device: None)
    info = init_distributed(device_type)
    assert info == DistInfo(rank=1, world_size=2, local_rank=1)
    assert len(calls) == 1
    assert calls[0]["backend"] == backend
    # rank 0 evaluates all validation scenes while the others wait at a barrier
    assert calls[0]["timeout"] == distributed.PROCESS_GROUP_TIMEOUT
    assert calls[0]["timeout"] >= timedelta(hours=1)


def test_a_single_process_joins_no_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    calls = record_init(monkeypatch)
    assert not init_distributed("cpu").enabled
    assert calls == []


def test_an_nccl_barrier_names_this_process_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict] = []
    monkeypatch.setattr(dist, "get_backend", lambda *a: "nccl")
    monkeypatch.setattr(dist, "barrier", lambda **kwargs: seen.append(kwargs))
    monkeypatch.setattr("torch.cuda.current_device", lambda: 3)
    barrier(DistInfo(rank=3, world_size=4, local_rank=3))
    assert seen == [{"device_ids": [3]}]


def test_a_gloo_barrier_and_a_single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict] = []
    monkeypatch.setattr(dist, "get_backend", lambda *a: "gloo")
    monkeypatch.setattr(dist, "barrier", lambda **kwargs: seen.append(kwargs))
    barrier(DistInfo(rank=1, world_size=2, local_rank=1))
    barrier(DistInfo())
    assert seen == [{}]


def test_cuda_device_is_set_before_the_process_group_is_made(
    two_process_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple] = []
    monkeypatch.setattr("torch.cuda.set_device", lambda device: events.append(("set_device", device)))
    monkeypatch.setattr(
        dist, "init_process_group", lambda **kwargs: events.append(("init", kwargs["backend"]))
    )
    init_distributed("cuda")
    assert events == [("set_device", 1), ("init", "nccl")]


def test_the_cpu_sets_no_cuda_device(two_process_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple] = []
    monkeypatch.setattr("torch.cuda.set_device", lambda device: events.append(("set_device", device)))
    monkeypatch.setattr(
        dist, "init_process_group", lambda **kwargs: events.append(("init", kwargs["backend"]))
    )
    init_distributed("cpu")
    assert events == [("init", "gloo")]
