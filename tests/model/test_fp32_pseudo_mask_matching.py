"""The teacher's query-to-box matching (eq. 1, eq. 3) is decided in float32, also under fp16 autocast."""

from __future__ import annotations

import torch

from beep3d.model.pseudo_masks import match_queries_to_boxes, query_similarity


def matching_case() -> tuple[torch.Tensor, ...]:
    # query 1 is better than query 0 by 1e-4, less than fp16's step near 0.9 (about 5e-4)
    similarity = torch.tensor([[0.9, 0.9], [0.9001, 0.9001]])
    class_probabilities = torch.full((2, 2), 0.5)
    box_classes = torch.tensor([0])
    evidence = torch.tensor([[10.0, 5.0]])
    return similarity, class_probabilities, box_classes, evidence


def test_matching_under_fp16_autocast_is_the_float32_matching() -> None:
    case = matching_case()
    assert match_queries_to_boxes(*case).tolist() == [1]
    with torch.autocast(device_type="cpu", dtype=torch.float16):
        assert match_queries_to_boxes(*case).tolist() == [1]


def test_matching_takes_fp16_similarities() -> None:
    similarity, class_probabilities, box_classes, evidence = matching_case()
    matched = match_queries_to_boxes(similarity.half(), class_probabilities.half(), box_classes, evidence)
    assert matched.tolist() == [0] or matched.tolist() == [1]  # tied in fp16: either, but no dtype error


def test_query_similarity_is_float32_under_fp16_autocast() -> None:
    generator = torch.Generator().manual_seed(0)
    content = torch.randn(4, 8, generator=generator) * 3
    features = torch.randn(6, 8, generator=generator) * 3
    expected = torch.sigmoid(content.double() @ features.double().T)
    with torch.autocast(device_type="cpu", dtype=torch.float16):
        similarity = query_similarity(content, features)
    assert similarity.dtype == torch.float32
    torch.testing.assert_close(similarity.double(), expected, rtol=1e-6, atol=1e-6)
    half = query_similarity(content.half(), features.half())
    assert half.dtype == torch.float32 and torch.isfinite(half).all()


def test_the_teacher_runs_without_autocast_under_the_students_mixed_precision() -> None:
    from types import SimpleNamespace

    from beep3d.model.beep3d_model import Beep3DModel

    seen: list[bool] = []

    def encode(batch, index_cache):  # noqa: ANN001, ANN202 (a stand-in for the teacher network)
        seen.append(torch.is_autocast_enabled("cpu"))
        return []

    model = SimpleNamespace(teacher=SimpleNamespace(encode=encode))
    batch = SimpleNamespace(xyz=[torch.zeros(4, 3)])
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        assert torch.is_autocast_enabled("cpu")
        Beep3DModel._teacher_results(model, batch)  # type: ignore[arg-type]
    assert seen == [False]
