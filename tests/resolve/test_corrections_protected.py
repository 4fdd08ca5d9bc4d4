"""Hidden and locked boxes take no corrections, and a result tells what its masks were made from.

A correction keeps the boxes hidden or locked when it was made (``Correction.protected``): the
corrections stage takes no point from their masks and gives them none, whatever the boxes' flags are
later. After the corrections, the display's "left out" reasons, the boxes' background shares and the
"much background" problem describe the corrected masks.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from beep3d.corrections import BACKGROUND, Correction, Corrections
from beep3d.defaults import DEFAULT_MEMBERSHIP, DEFAULT_SHARE
from beep3d.document import AddCorrection, AnnotationDocument, DeleteBox, History
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io.box_files import load_corrections, save_boxes
from beep3d.resolve.foreground import REASON_FLOOR, Foreground
from beep3d.resolve.pipeline import annotate, run_inputs
from beep3d.resolve.resolvers import get_resolver
from beep3d.scene import Scene
from tests.resolve.test_corrections import two_blocks


def _ids(scene: Scene, boxes: BoxSet, *corrections: Correction) -> np.ndarray:
    resolver = get_resolver("smallest-box")
    found = Corrections(corrections, scene.num_points) if corrections else None
    return annotate(scene, boxes, resolver, corrections=found).resolution.instance_ids


def test_a_stroke_or_click_leaves_the_masks_of_the_boxes_it_protects_alone():
    scene, boxes = two_blocks()
    before = _ids(scene, boxes)
    of_2 = np.flatnonzero(before == 2)[:200]
    of_1 = np.flatnonzero(before == 1)[:200]
    stroke = np.concatenate([of_1, of_2])

    # a stroke to background, and one for box 1: box 2's points are left out when box 2 is protected
    for target in (BACKGROUND, 1):
        free = _ids(scene, boxes, Correction("stroke", target, True, stroke))
        assert np.all(free[stroke] == target)
        kept = _ids(scene, boxes, Correction("stroke", target, True, stroke, (2,)))
        assert np.all(kept[of_2] == 2) and np.all(kept[of_1] == target)

    # a positive click for box 2 where box 1's mask reaches into it gives box 2 nothing of box 1's
    point = np.flatnonzero((before == 1) & (scene.xyz[:, 0] > 0.3) & (scene.xyz[:, 0] < 0.45))[0]
    assert _ids(scene, boxes, Correction("click", 2, True, [point]))[point] == 2
    assert np.array_equal(_ids(scene, boxes, Correction("click", 2, True, [point], (1,))), before)


def test_a_negative_click_never_hands_its_region_to_a_protected_box():
    scene, boxes = two_blocks()
    before = _ids(scene, boxes)
    # box 1's points that box 2 contains too: a negative click there hands them to box 2 ...
    shared = np.flatnonzero((before == 1) & (scene.xyz[:, 0] > 0.26) & (scene.xyz[:, 0] < 0.48))
    point = shared[len(shared) // 2]
    handed = _ids(scene, boxes, Correction("click", 1, False, [point]))
    region = np.flatnonzero(handed != before)
    assert len(region) > 10 and np.all(handed[region] == 2)
    # ... unless box 2 is locked or hidden: then they go to background, and box 2's mask stays
    protected = _ids(scene, boxes, Correction("click", 1, False, [point], (2,)))
    assert np.array_equal(np.flatnonzero(protected != before), region)
    assert np.all(protected[region] == -1)
    assert np.array_equal(protected == 2, before == 2)


def test_the_protected_boxes_are_saved_with_the_correction_and_a_deleted_box_is_no_longer_one(tmp_path):
    scene, boxes = two_blocks()
    stroke = Correction("stroke", BACKGROUND, True, [3, 4], (2,))
    click = Correction("click", 1, False, [5])
    assert stroke.to_dict()["protected"] == [2] and "protected" not in click.to_dict()
    assert stroke != Correction("stroke", BACKGROUND, True, [3, 4])
    path = tmp_path / "boxes.json"
    save_boxes(path, boxes, corrections=Corrections((stroke, click), scene.num_points))
    assert load_corrections(path).items == (stroke, click)

    data = json.loads(path.read_text())
    data["corrections"]["items"][0]["protected"] = ["2"]
    path.write_text(json.dumps(data))
    with pytest.raises(Beep3dError, match=r"protected\[0\] must be an integer"):
        load_corrections(path)
    with pytest.raises(Beep3dError, match="cannot leave that box's mask alone"):
        Correction("stroke", 2, True, [3], (2,))

    # deleting box 2 frees its id: the stroke no longer leaves that id alone; undo brings it back
    doc = AnnotationDocument()
    doc.set_scene(scene, boxes=boxes)
    history = History(doc)
    history.push(AddCorrection(stroke))
    history.push(DeleteBox(2))
    assert doc.corrections.items == (Correction("stroke", BACKGROUND, True, [3, 4]),)
    history.undo()
    assert doc.corrections.items == (stroke,)
    # a box file protecting a box it does not hold loads without it
    save_boxes(path, BoxSet([boxes[0]]), corrections=Corrections((stroke,), scene.num_points))
    assert load_corrections(path).items[0].protected == ()


def test_a_result_records_the_corrections_and_settings_it_was_made_from():
    scene, boxes = two_blocks()
    resolver = get_resolver("smallest-box")
    click = Corrections((Correction("click", 1, True, [5]),), scene.num_points)
    result = annotate(scene, boxes, resolver, corrections=click)
    inputs = run_inputs(scene, resolver, DEFAULT_MEMBERSHIP, DEFAULT_SHARE, None)
    assert result.corrections == click and result.computed_from(boxes, click, inputs)
    assert not result.computed_from(boxes, Corrections(num_points=scene.num_points), inputs)  # cancelled
    assert not result.computed_from(BoxSet([boxes[0]]), click, inputs)
    other = run_inputs(scene, get_resolver("nearest-centre"), DEFAULT_MEMBERSHIP, DEFAULT_SHARE, None)
    assert not result.computed_from(boxes, click, other)
    plain = annotate(scene, boxes, resolver)
    assert plain.computed_from(boxes, None, inputs) and plain.computed_from(boxes, Corrections(), inputs)


class _FloorLeaves:
    """A foreground stage that takes every point below 5 cm out of its box."""

    name = "floor"

    def separate(self, scene, boxes, resolution, membership=None) -> Foreground:  # noqa: ANN001
        from beep3d.resolve.box_shares import box_positions, shares_per_box

        positions = box_positions(resolution.instance_ids, boxes)
        leaving = (scene.xyz[:, 2] < 0.05) & (positions >= 0)
        reason = np.where(leaving, REASON_FLOOR, 0).astype(np.int8)
        share = shares_per_box(positions, leaving, len(boxes))
        return Foreground(reason, leaving.astype(np.float32), share, np.zeros(len(boxes), bool))


def test_points_a_correction_gives_back_are_no_longer_left_out_nor_counted_as_background():
    """A box around a block on a floor: the floor leaves its mask (much background). Stroked back to
    the box, those points are no longer "left out" and the box's share of background falls."""
    rng = np.random.default_rng(1)
    floor = np.column_stack([rng.uniform(0, 1, (3000, 2)), np.zeros(3000)])
    block = rng.uniform([0.4, 0.4, 0.1], [0.6, 0.6, 0.3], size=(600, 3))
    xyz = np.concatenate([floor, block]).astype(np.float32)
    scene = Scene(xyz=xyz, rgb=np.full((len(xyz), 3), 90, np.uint8), name="floor")
    boxes = BoxSet([Box(0, "chair", (0.5, 0.5, 0.15), (0.8, 0.8, 0.32))])
    resolver, stage = get_resolver("smallest-box"), _FloorLeaves()
    before = annotate(scene, boxes, resolver, foreground=stage)
    left = np.flatnonzero(before.labels.background_reason > 0)
    assert len(left) > 1000 and before.background_share[0] > 0.5
    assert [p.kind for p in before.problems if p.box_ids == (0,)] == ["much_background"]

    stroke = Corrections((Correction("stroke", 0, True, left),), scene.num_points)
    after = annotate(scene, boxes, resolver, foreground=stage, corrections=stroke, reuse=before)
    assert np.all(after.labels.instance_ids[left] == 0) and after.labels.corrected[left].all()
    assert not (after.labels.background_reason > 0).any()
    assert after.background_share[0] == 0.0 and not [p for p in after.problems if p.kind == "much_background"]
    assert after.foreground is before.foreground  # the stage's own result, which an edit starts from

    # half of them to background again: the share follows the masks
    half = Corrections((*stroke.items, Correction("stroke", BACKGROUND, True, left[::2])), scene.num_points)
    again = annotate(scene, boxes, resolver, foreground=stage, corrections=half, reuse=after)
    in_box = np.count_nonzero(before.resolved.instance_ids == 0)
    assert again.background_share[0] == pytest.approx(len(left[::2]) / in_box)
