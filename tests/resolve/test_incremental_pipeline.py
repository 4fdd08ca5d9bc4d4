"""After an in-place edit of a few boxes the pipeline redoes only the edit's points: equal to a full recompute."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beep3d.geometry.boxes import Box, BoxSet
from beep3d.geometry.overlap import forget_membership
from beep3d.resolve.foreground import get_foreground
from beep3d.resolve.pipeline import AnnotationResult, annotate
from beep3d.resolve.resolvers import get_resolver
from beep3d.scene import Scene
from tests.resolve.test_foreground import ROOM

ROOM_SCENE = ROOM[0]
# finer superpoints than the test room's (one per surface), so surface patches are partly inside boxes
_cells = np.floor(ROOM_SCENE.xyz / 0.4).astype(np.int64)
SCENE = Scene(
    xyz=ROOM_SCENE.xyz,
    rgb=ROOM_SCENE.rgb,
    normals=ROOM_SCENE.normals,
    superpoints=np.unique(_cells, axis=0, return_inverse=True)[1].ravel(),
    name="room, fine superpoints",
)
LO, HI = SCENE.xyz.min(axis=0), SCENE.xyz.max(axis=0)
LABELS = ("chair", "table", "cabinet", "picture")


def assert_same(edited: AnnotationResult, full: AnnotationResult) -> None:
    """Every array and problem of two pipeline results is equal (dtype included)."""
    for name in ("point_index", "box_index"):
        np.testing.assert_array_equal(getattr(edited.membership, name), getattr(full.membership, name))
    for part in ("analysis", "resolution", "foreground", "labels", "resolved", "uncorrected"):
        a, b = getattr(edited, part), getattr(full, part)
        for field in dataclasses.fields(b):
            x, y = getattr(a, field.name), getattr(b, field.name)
            if isinstance(y, np.ndarray):
                assert x.dtype == y.dtype, (part, field.name)
                np.testing.assert_array_equal(x, y, err_msg=f"{part}.{field.name}")
    assert [(p.kind, p.box_ids, p.message) for p in edited.problems] == [
        (p.kind, p.box_ids, p.message) for p in full.problems
    ]
    for p, q in zip(edited.problems, full.problems, strict=True):
        if q.point_index is None:
            assert p.point_index is None
        else:
            np.testing.assert_array_equal(p.point_index, q.point_index)


def full_recompute(
    scene: Scene, boxes: BoxSet, resolver_name: str, foreground: str, level: str = "point"
) -> AnnotationResult:
    """The pipeline with nothing remembered between runs."""
    forget_membership(scene)
    resolver = get_resolver(resolver_name, level=level)
    return annotate(scene, boxes, resolver, level, foreground=get_foreground(foreground))


box_params = st.tuples(
    st.floats(float(LO[0]), float(HI[0])),
    st.floats(float(LO[1]), float(HI[1])),
    st.floats(0.0, 1.5),
    st.floats(0.1, 2.0),
    st.floats(0.1, 2.0),
    st.floats(0.1, 1.5),
    st.floats(-3.1, 3.1),
    st.sampled_from(LABELS),
)


def make_box(box_id: int, params: tuple) -> Box:
    x, y, z, sx, sy, sz, yaw, label = params
    return Box(box_id, label, (x, y, z), (sx, sy, sz), yaw)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(box_params, min_size=1, max_size=7),
    st.lists(st.tuples(st.integers(0, 6), box_params, st.booleans()), min_size=1, max_size=4),
    st.sampled_from(("smallest-box", "nearest-centre")),
    st.sampled_from(("geometric", "off")),
    st.sampled_from(("point", "superpoint")),
)
def test_edits_resolved_incrementally_equal_a_full_recompute(params, edits, resolver_name, foreground, level):
    boxes = [make_box(i + 1, p) for i, p in enumerate(params)]
    resolver = get_resolver(resolver_name, level=level)
    stage = get_foreground(foreground)
    previous = annotate(SCENE, BoxSet(boxes), resolver, level, foreground=stage)
    for position, new_params, small in edits:
        position %= len(boxes)
        old = boxes[position]
        if small:  # a nudge, as a key press gives
            new = old.moved(center=(old.center[0] + 0.03, old.center[1] - 0.02, old.center[2]))
        else:
            new = make_box(old.id, new_params)
        boxes[position] = new
        box_set = BoxSet(boxes)
        previous = annotate(SCENE, box_set, resolver, level, foreground=stage, reuse=previous)
        assert_same(previous, full_recompute(SCENE, box_set, resolver_name, foreground, level))


def grid_scene(side: int = 5, seed: int = 0) -> tuple[Scene, list[Box]]:
    """A floor and ``side``² cubes whose boxes overlap their neighbours (as the edit-latency bench's)."""
    rng = np.random.default_rng(seed)
    spacing, cube = 0.65, 0.6
    extent = side * spacing
    floor = np.column_stack([rng.uniform(0, extent, (40000, 2)), rng.normal(0, 0.01, 40000)])
    parts, boxes = [floor], []
    for k in range(side * side):
        centre = np.array([(k % side + 0.5) * spacing, (k // side + 0.5) * spacing, cube / 2])
        parts.append(rng.uniform(-cube / 2, cube / 2, (300, 3)) + centre)
        boxes.append(Box(k + 1, "cabinet", tuple(centre), (cube * 1.15,) * 3, 0.0))
    xyz = np.concatenate(parts).astype(np.float32)
    return Scene(xyz=xyz, rgb=np.zeros((len(xyz), 3), np.uint8), name="grid"), boxes


@pytest.mark.parametrize("level", ["point", "superpoint"])
@pytest.mark.parametrize("resolver_name", ["smallest-box", "nearest-centre"])
def test_a_run_of_edits_on_many_overlapping_boxes_equals_full_recomputes(resolver_name, level):
    """Low-confidence overlaps, shared and exclusive counts and first boxes stay right edit after edit."""
    scene, boxes = grid_scene()
    resolver = get_resolver(resolver_name, level=level)
    stage = get_foreground("geometric")
    previous = annotate(scene, BoxSet(boxes), resolver, level, foreground=stage)
    assert any(p.kind == "low_confidence" for p in previous.problems) or resolver_name != "smallest-box"
    rng = np.random.default_rng(1)
    for i in range(12):
        position = int(rng.integers(len(boxes)))
        box = boxes[position]
        step = rng.normal(0, 0.08, 3) if i % 3 else np.array([0.5, 0.0, 0.0])  # some edits jump a cell
        boxes[position] = box.moved(center=tuple(np.asarray(box.center) + step))
        if i == 5:
            # smaller and relabelled: it may lie inside a neighbour
            boxes[position] = boxes[position].moved(size=(0.3, 0.3, 0.3), label="chair")
        box_set = BoxSet(boxes)
        previous = annotate(scene, box_set, resolver, level, foreground=stage, reuse=previous)
        assert_same(previous, full_recompute(scene, box_set, resolver_name, "geometric", level))


@pytest.mark.parametrize("level", ["point", "superpoint"])
def test_an_edit_is_resolved_incrementally(level, monkeypatch):
    """The pipeline takes the incremental path for a moved box (the resolver is asked for the edit
    only, and the result remembers a diagnosis)."""
    scene, boxes = grid_scene(3)
    resolver, stage = get_resolver("smallest-box", level=level), get_foreground("geometric")
    first = annotate(scene, BoxSet(boxes), resolver, level, foreground=stage)
    monkeypatch.setattr(resolver, "resolve", lambda *a, **k: pytest.fail("a full resolution"))
    boxes[4] = boxes[4].moved(center=(1.0, 1.0, 0.3))
    second = annotate(scene, BoxSet(boxes), resolver, level, foreground=stage, reuse=first)
    assert second.resolved is not first.resolved and second.memory is not None
    assert second.membership is not first.membership


def test_an_edit_of_a_box_without_points_keeps_the_other_boxes_low_confidence_points():
    """A nudge that touches no point forgot the remembered unsure points (found by the fuzz test):
    a later edit that moved them to another pair of boxes left the old pair's problem behind."""
    same = (0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, "chair")  # equal boxes: their shared points are unsure
    low = (0.0, 0.0, 0.0, 1.0, 1.0, 0.5, 0.0, "chair")  # the lower half of them
    empty = (1.0, 2.5, 1.0, 1.0, 0.5, 1.0, 0.0, "chair")  # beyond the room's points
    boxes = [make_box(i + 1, p) for i, p in enumerate([low, same, same, same, empty, same, same])]
    resolver, stage = get_resolver("smallest-box"), get_foreground("geometric")
    previous = annotate(SCENE, BoxSet(boxes), resolver, foreground=stage)
    assert any(p.kind == "low_confidence" and p.box_ids == (2, 7) for p in previous.problems)
    boxes[4] = boxes[4].moved(center=(1.03, 2.48, 1.0))  # touches no point
    boxes_after_nudge = BoxSet(boxes)
    previous = annotate(SCENE, boxes_after_nudge, resolver, foreground=stage, reuse=previous)
    assert_same(previous, full_recompute(SCENE, boxes_after_nudge, "smallest-box", "geometric"))
    boxes[0] = make_box(1, same)  # box 1 now holds every shared point: the pairs change
    previous = annotate(SCENE, BoxSet(boxes), resolver, foreground=stage, reuse=previous)
    assert_same(previous, full_recompute(SCENE, BoxSet(boxes), "smallest-box", "geometric"))


@pytest.mark.parametrize("level", ["point", "superpoint"])
def test_superpoints_replaced_between_edits_are_not_mixed_with_the_old_ones(level):
    """A scene given new superpoints: the next edit must not reuse what the old ones decided
    (superpoint members, surface patches), at either membership level."""
    scene, boxes = grid_scene(3)
    scene.superpoints = np.unique(np.floor(scene.xyz / 0.4).astype(np.int64), axis=0, return_inverse=True)[
        1
    ].ravel()
    resolver, stage = get_resolver("smallest-box", level=level), get_foreground("geometric")
    previous = annotate(scene, BoxSet(boxes), resolver, level, foreground=stage)
    scene.superpoints = np.unique(np.floor(scene.xyz / 0.25).astype(np.int64), axis=0, return_inverse=True)[
        1
    ].ravel()
    boxes[4] = boxes[4].moved(center=(1.0, 1.0, 0.3))
    edited = annotate(scene, BoxSet(boxes), resolver, level, foreground=stage, reuse=previous)
    assert_same(edited, full_recompute(scene, BoxSet(boxes), "smallest-box", "geometric", level))


def test_a_resolver_of_another_share_than_the_call_is_not_edited_incrementally():
    """The resolver decides with its own share; the pipeline's membership with the call's: an edit
    must then give what a full run gives."""
    scene, boxes = grid_scene(3)
    resolver, stage = get_resolver("smallest-box", level="superpoint", share=0.9), get_foreground("off")
    previous = annotate(scene, BoxSet(boxes), resolver, "superpoint", 0.2, foreground=stage)
    boxes[4] = boxes[4].moved(center=(1.0, 1.0, 0.3))
    edited = annotate(scene, BoxSet(boxes), resolver, "superpoint", 0.2, foreground=stage, reuse=previous)
    forget_membership(scene)
    full = annotate(scene, BoxSet(boxes), resolver, "superpoint", 0.2, foreground=get_foreground("off"))
    assert_same(edited, full)
