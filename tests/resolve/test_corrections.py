"""Hand corrections: clicks and strokes override the masks for every resolver, and are saved."""

from __future__ import annotations

import json

import numpy as np
import pytest

from beep3d.corrections import BACKGROUND, Correction, Corrections
from beep3d.document import AddCorrection, AnnotationDocument, History
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.io.box_files import load_boxes, load_corrections, save_boxes
from beep3d.resolve.corrections import apply_corrections
from beep3d.resolve.pipeline import annotate
from beep3d.resolve.resolution import DECIDED_BY_CORRECTION
from beep3d.resolve.resolvers import get_resolver
from beep3d.scene import Scene


def two_blocks() -> tuple[Scene, BoxSet]:
    """Two 0.4 m blocks side by side (instances 1 and 2) whose boxes overlap by 0.2 m in x."""
    rng = np.random.default_rng(0)
    a = rng.uniform([0.0, 0, 0], [0.4, 0.4, 0.4], size=(2000, 3))
    b = rng.uniform([0.4, 0, 0], [0.8, 0.4, 0.4], size=(2000, 3))
    xyz = np.concatenate([a, b]).astype(np.float32)
    scene = Scene(
        xyz=xyz,
        rgb=np.full((len(xyz), 3), 100, np.uint8),
        instance=np.repeat([1, 2], 2000),
        superpoints=(np.floor(xyz[:, 0] / 0.1) + 10 * np.floor(xyz[:, 1] / 0.2)).astype(np.int64),
        name="blocks",
    )
    boxes = BoxSet(
        [
            Box(1, "chair", (0.25, 0.2, 0.2), (0.5, 0.42, 0.42)),  # reaches x = 0.5: into block 2
            Box(2, "table", (0.55, 0.2, 0.2), (0.62, 0.42, 0.42)),  # from x = 0.24: into block 1
        ]
    )
    return scene, boxes


@pytest.mark.parametrize("resolver_name", ["smallest-box", "nearest-centre"])
def test_a_positive_click_overrides_every_resolver_and_spreads(resolver_name):
    scene, boxes = two_blocks()
    resolver = get_resolver(resolver_name)
    before = annotate(scene, boxes, resolver).resolution.instance_ids
    contested = np.flatnonzero((scene.xyz[:, 0] > 0.3) & (scene.xyz[:, 0] < 0.45))
    point = contested[0]
    other = 3 - int(before[point])  # the box the resolver did not give it to
    click = Correction("click", other, True, [point])
    result = annotate(scene, boxes, resolver, corrections=Corrections((click,), scene.num_points))
    after = result.resolution.instance_ids
    assert after[point] == other
    changed = np.flatnonzero(result.labels.corrected)
    assert len(changed) > 1  # it spread beyond the clicked point
    assert np.all(after[changed] == other)
    assert np.all(np.linalg.norm(scene.xyz[changed] - scene.xyz[point], axis=1) <= 0.3 + 1e-6)
    assert np.all(result.resolution.decided_by[changed] == DECIDED_BY_CORRECTION)
    assert np.all(result.resolution.confidence[changed] == 1.0)


def test_a_click_on_a_wrongly_given_patch_fixes_it():
    scene, boxes = two_blocks()
    resolver = get_resolver("smallest-box")
    before = annotate(scene, boxes, resolver).resolution.instance_ids
    wrong = np.flatnonzero((scene.instance == 2) & (before == 1))  # the smaller box took block 2's edge
    assert len(wrong) > 50
    click = Correction("click", 2, True, [wrong[0]])
    result = annotate(scene, boxes, resolver, corrections=Corrections((click,)), click_spread="superpoint")
    after = result.resolution.instance_ids
    assert np.sum(after[wrong] == 2) > 20
    assert np.mean(after == scene.instance) > np.mean(before == scene.instance)


def test_a_negative_click_hands_points_to_the_other_box_and_strokes_are_exact():
    scene, boxes = two_blocks()
    resolver = get_resolver("smallest-box")
    before = annotate(scene, boxes, resolver).resolution.instance_ids
    wrong = np.flatnonzero((scene.instance == 2) & (before == 1))
    click = Correction("click", 1, False, [wrong[0]])
    after = annotate(scene, boxes, resolver, corrections=Corrections((click,))).resolution.instance_ids
    assert after[wrong[0]] == 2  # the other box containing it
    stroke = Correction("stroke", BACKGROUND, True, [0, 1, 2])
    painted = annotate(scene, boxes, resolver, corrections=Corrections((click, stroke))).resolution
    assert painted.instance_ids[[0, 1, 2]].tolist() == [-1, -1, -1]
    assert painted.semantic_ids[[0, 1, 2]].tolist() == [-1, -1, -1]
    assert np.array_equal(painted.instance_ids[3:], after[3:])


def test_later_corrections_win_and_a_deleted_box_drops_its_own():
    scene, boxes = two_blocks()
    resolver = get_resolver("smallest-box")
    first = Correction("stroke", 1, True, [10, 11])
    second = Correction("stroke", 2, True, [11])
    ids = annotate(scene, boxes, resolver, corrections=Corrections((first, second))).resolution.instance_ids
    assert ids[10] == 1 and ids[11] == 2
    only_one = BoxSet([boxes[1]])
    ids = annotate(
        scene, only_one, resolver, corrections=Corrections((first, second))
    ).resolution.instance_ids
    assert ids[11] == 2 and ids[10] != 1


def test_corrections_are_one_undo_step_each_in_the_document():
    scene, boxes = two_blocks()
    doc = AnnotationDocument()
    doc.set_scene(scene, boxes=boxes)
    history = History(doc)
    history.push(AddCorrection(Correction("click", 1, True, [5])))
    history.push(AddCorrection(Correction("stroke", 2, True, [6, 7])))
    assert len(doc.corrections) == 2
    history.undo()
    assert len(doc.corrections) == 1 and doc.corrections.items[0].kind == "click"
    history.redo()
    assert len(doc.corrections) == 2
    with pytest.raises(Beep3dError, match="outside the scan"):
        doc.corrections.added(Correction("click", 1, True, [scene.num_points]))


def test_box_file_version_2_round_trips_the_corrections_and_version_1_still_loads(tmp_path):
    scene, boxes = two_blocks()
    corrections = Corrections(
        (Correction("click", 1, False, [12]), Correction("stroke", BACKGROUND, True, [3, 4, 5])),
        scene.num_points,
    )
    path = tmp_path / "b.json"
    save_boxes(path, boxes, corrections=corrections)
    assert json.loads(path.read_text())["version"] == 2
    assert load_boxes(path) == boxes
    assert load_corrections(path) == corrections
    old = tmp_path / "old.json"
    old.write_text(
        json.dumps(
            {"version": 1, "boxes": [{"id": 1, "label": "chair", "center": [0, 0, 0], "size": [1, 1, 1]}]}
        )
    )
    assert len(load_boxes(old)) == 1 and len(load_corrections(old)) == 0


def test_corrections_for_another_scan_or_malformed_are_refused_with_what_to_do(tmp_path):
    scene, boxes = two_blocks()
    corrections = Corrections((Correction("click", 1, True, [12]),), num_points=999)
    with pytest.raises(Beep3dError, match="only fit the scan they were made on"):
        corrections.for_scan(scene.num_points)
    path = tmp_path / "b.json"
    path.write_text(
        json.dumps({"version": 2, "boxes": [], "corrections": {"items": [{"kind": "click", "box": 1}]}})
    )
    with pytest.raises(Beep3dError, match="item 0: missing key 'points'"):
        load_corrections(path)
    with pytest.raises(Beep3dError, match="a click is one point"):
        Correction("click", 1, True, [1, 2])
    with pytest.raises(Beep3dError, match="only a stroke can give points to background"):
        Correction("click", BACKGROUND, True, [1])


def test_the_headless_export_reads_the_corrections_from_the_box_file(tmp_path):
    from beep3d.cli.annotate import main
    from beep3d.io import write_ply

    scene, boxes = two_blocks()
    write_ply(tmp_path / "blocks.ply", scene.xyz, scene.rgb)
    stroke = Correction("stroke", 2, True, [0, 1, 2, 3])
    save_boxes(tmp_path / "blocks.boxes.json", boxes, corrections=Corrections((stroke,), scene.num_points))
    out = tmp_path / "out"
    assert main([str(tmp_path / "blocks.ply"), "--export", str(out), "--resolver", "smallest-box"]) == 0
    ids = np.load(out / "instance_ids.npy")
    assert ids[:4].tolist() == [2, 2, 2, 2]
    summary = json.loads((out / "export.json").read_text())
    assert summary["corrections"] == 1 and summary["points_corrected"] == 4


def test_apply_corrections_refuses_an_unknown_spread():
    scene, boxes = two_blocks()
    resolution = get_resolver("smallest-box").resolve(scene, boxes)
    with pytest.raises(Beep3dError, match="unknown click spread"):
        apply_corrections(
            scene, boxes, resolution, Corrections((Correction("click", 1, True, [0]),)), spread="lasso"
        )


def test_a_click_re_resolves_without_the_resolver_and_gives_what_a_full_run_gives():
    scene, boxes = two_blocks()
    calls = []
    rule = get_resolver("smallest-box")

    class Counting:
        name = "counting"
        class_set = rule.class_set

        def resolve(self, scene_, boxes_):
            calls.append(1)
            return rule.resolve(scene_, boxes_)

    resolver = Counting()
    first = annotate(scene, boxes, resolver)
    click = Corrections((Correction("click", 2, True, [100]),), scene.num_points)
    reused = annotate(scene, boxes, resolver, corrections=click, reuse=first)
    assert len(calls) == 1  # only the corrections stage ran again
    fresh = annotate(scene, boxes, resolver, corrections=click)
    assert np.array_equal(reused.resolution.instance_ids, fresh.resolution.instance_ids)
    moved = BoxSet([boxes[0], Box(2, "table", (0.56, 0.2, 0.2), (0.62, 0.42, 0.42))])
    annotate(scene, moved, resolver, corrections=click, reuse=reused)
    assert len(calls) == 3  # other boxes: everything runs


def test_a_later_click_leaves_what_is_nearer_an_earlier_click():
    """A negative click beside a positive one undoes neither the earlier click nor the points nearer to it."""
    scene, boxes = two_blocks()
    resolver = get_resolver("smallest-box")
    contested = (scene.xyz[:, 0] > 0.26) & (scene.xyz[:, 0] < 0.48)
    xyz = scene.xyz.astype(np.float64)
    first = int(np.argmin(np.linalg.norm(xyz - [0.3, 0.2, 0.2], axis=1)))
    second = int(np.argmin(np.linalg.norm(xyz - [0.42, 0.2, 0.2], axis=1)))
    clicks = Corrections(
        (Correction("click", 2, True, [first]), Correction("click", 2, False, [second])), scene.num_points
    )
    after = annotate(scene, boxes, resolver, corrections=clicks).resolution.instance_ids
    nearer_first = contested & (
        np.linalg.norm(xyz - xyz[first], axis=1) < np.linalg.norm(xyz - xyz[second], axis=1)
    )
    from beep3d.resolve.corrections import CLICK_BOX_SHARE, CLICK_RADIUS

    reach = min(CLICK_RADIUS, CLICK_BOX_SHARE * float(np.median(boxes[boxes.position_of(2)].size)))
    near_first = nearer_first & (np.linalg.norm(xyz - xyz[first], axis=1) < reach)
    assert near_first.sum() > 10  # the test asks something
    assert after[first] == 2 and after[second] == 1
    assert np.all(after[near_first] == 2)  # the negative click did not take back what the first one gave


def test_clicks_applied_one_at_a_time_equal_clicks_applied_together():
    scene, boxes = two_blocks()
    resolver = get_resolver("smallest-box")
    base = annotate(scene, boxes, resolver)
    rng = np.random.default_rng(3)
    contested = np.flatnonzero((scene.xyz[:, 0] > 0.24) & (scene.xyz[:, 0] < 0.5))
    clicks = [
        Correction("click", int(rng.integers(1, 3)), bool(rng.integers(0, 2)), [int(p)])
        for p in rng.choice(contested, 12, replace=False)
    ]
    together, corrected_together = apply_corrections(
        scene, boxes, base.resolution, Corrections(tuple(clicks), scene.num_points), base.membership
    )
    resolution, applied = base.resolution, Corrections(num_points=scene.num_points)
    for click in clicks:
        resolution, corrected = apply_corrections(
            scene,
            boxes,
            resolution,
            Corrections((click,), scene.num_points),
            base.membership,
            earlier=applied,
        )
        applied = applied.added(click)
    np.testing.assert_array_equal(resolution.instance_ids, together.instance_ids)
    np.testing.assert_array_equal(corrected, corrected_together)


def test_a_click_reaches_a_quarter_of_its_boxs_median_side_so_it_cannot_swallow_a_small_object():
    """Box 1's median side is 0.42 m: a negative click for it reaches 0.105 m, not the 0.3 m ball,
    which on real scans took most of a small object with its error."""
    scene, boxes = two_blocks()
    base = annotate(scene, boxes, get_resolver("smallest-box")).resolution
    xyz = scene.xyz.astype(np.float64)
    click = int(np.argmin(np.linalg.norm(xyz - [0.2, 0.2, 0.2], axis=1)))
    distance = np.linalg.norm(xyz - xyz[click], axis=1)
    negative = Corrections((Correction("click", 1, False, [click]),), scene.num_points)
    for share, reach in ((0.25, 0.105), (0.0, 0.3)):
        after, changed = apply_corrections(scene, boxes, base, negative, box_share=share)
        assert changed.any() and distance[changed].max() <= reach + 1e-6
        assert distance[changed].max() > reach - 0.03  # the whole reach, not less
