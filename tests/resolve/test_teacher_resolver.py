"""The teacher resolver: a checkpoint in, per-point instances out, backbone cached per scene."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from beep3d.app.cli import main  # noqa: E402
from beep3d.classes import SCANNET18  # noqa: E402
from beep3d.errors import Beep3dError  # noqa: E402
from beep3d.geometry.boxes import Box, BoxSet  # noqa: E402
from beep3d.io import write_ply  # noqa: E402
from beep3d.io.box_files import save_boxes  # noqa: E402
from beep3d.resolve.resolvers import get_resolver  # noqa: E402
from beep3d.scene import Scene  # noqa: E402
from tests.training_fakes import save_untrained_checkpoint, tiny_model_config  # noqa: E402

TINY = tiny_model_config()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    save_untrained_checkpoint(path, TINY)
    return path


@pytest.fixture
def overlapping_scene():
    """A table top with a chair pushed into it: 600 points, many in both boxes."""
    rng = np.random.default_rng(0)
    table = rng.uniform([0, 0, 0.6], [1.2, 0.8, 0.7], size=(300, 3))
    chair = rng.uniform([0.9, 0.2, 0.0], [1.5, 0.6, 0.9], size=(300, 3))
    xyz = np.concatenate([table, chair]).astype(np.float32)
    rgb = np.concatenate([np.full((300, 3), 200), np.full((300, 3), 40)]).astype(np.uint8)
    scene = Scene(xyz=xyz, rgb=rgb, superpoints=(np.arange(600) // 20), name="overlap")
    boxes = BoxSet(
        [
            Box(10, "table", (0.6, 0.4, 0.45), (1.22, 0.82, 0.92)),
            Box(20, "chair", (1.2, 0.4, 0.45), (0.62, 0.42, 0.92)),
        ]
    )
    return scene, boxes


def test_teacher_assigns_shared_points_only_to_containing_boxes(checkpoint, overlapping_scene):
    scene, boxes = overlapping_scene
    resolver = get_resolver("teacher", checkpoint=checkpoint)
    result = resolver.resolve(scene, boxes)
    dense = boxes.membership(scene.xyz).dense()
    inside_any = dense.any(axis=1)
    assert np.array_equal(result.instance_ids >= 0, inside_any)
    positions = np.searchsorted(boxes.ids, result.instance_ids[inside_any])
    assert dense[np.flatnonzero(inside_any), positions].all()
    single = dense.sum(axis=1) == 1
    assert np.all(result.confidence[single] == 1.0)
    multi = dense.sum(axis=1) >= 2
    assert multi.any() and np.all((result.confidence[multi] >= 0) & (result.confidence[multi] <= 1))
    assert set(np.unique(result.semantic_ids[result.instance_ids == 20])) <= {SCANNET18.id_of("chair")}


def test_backbone_runs_once_per_scene_and_edits_reuse_it(checkpoint, overlapping_scene, monkeypatch):
    scene, boxes = overlapping_scene
    resolver = get_resolver("teacher", checkpoint=checkpoint)
    calls = []
    original = resolver.model.encode_scene
    monkeypatch.setattr(resolver.model, "encode_scene", lambda batch: calls.append(1) or original(batch))
    first = resolver.resolve(scene, boxes)
    moved = boxes.with_box(boxes[1].moved(center=(1.25, 0.4, 0.45)))
    resolver.resolve(scene, moved)
    assert len(calls) == 1, "moving a box must not recompute the backbone"
    again = resolver.resolve(scene, boxes)
    np.testing.assert_array_equal(first.instance_ids, again.instance_ids)
    other = Scene(xyz=scene.xyz + 0.01, rgb=scene.rgb, superpoints=scene.superpoints, name="other")
    resolver.resolve(other, boxes)
    assert len(calls) == 2, "a new scene is encoded again"


def test_scene_without_overlaps_never_runs_the_network(checkpoint, monkeypatch):
    resolver = get_resolver("teacher", checkpoint=checkpoint)
    monkeypatch.setattr(resolver, "encoding_for", lambda scene: pytest.fail("network ran without overlaps"))
    scene = Scene(xyz=np.array([[0, 0, 0], [5, 5, 5]], np.float32), rgb=np.zeros((2, 3)), name="two")
    result = resolver.resolve(scene, BoxSet([Box(1, "bed", (0, 0, 0), (1, 1, 1))]))
    assert result.instance_ids.tolist() == [1, -1]


def test_export_with_the_teacher_and_bad_checkpoints(tmp_path, checkpoint, overlapping_scene, capsys):
    scene, boxes = overlapping_scene
    write_ply(tmp_path / "s.ply", scene.xyz, scene.rgb)
    save_boxes(tmp_path / "b.json", boxes)
    args = [str(tmp_path / "s.ply"), "--boxes", str(tmp_path / "b.json"), "--resolver", "teacher"]
    assert main([*args, "--checkpoint", str(checkpoint), "--export", str(tmp_path / "out")]) == 0
    assert np.load(tmp_path / "out" / "instance_ids.npy").shape == (600,)
    # a pickled file is refused without being unpickled; a missing one is named
    evil = tmp_path / "evil.pt"
    torch.save({"x": 1}, evil)
    assert main([*args, "--checkpoint", str(evil), "--export", str(tmp_path / "o2")]) == 2
    assert "refused" in capsys.readouterr().err
    assert (
        main([*args, "--checkpoint", str(tmp_path / "none.safetensors"), "--export", str(tmp_path / "o3")])
        == 2
    )
    assert "not found" in capsys.readouterr().err
    with pytest.raises(Beep3dError):
        get_resolver("teacher", checkpoint=tmp_path / "b.json")


def _misfit_checkpoint(path, checkpoint):
    """A checkpoint with a valid header whose tensors do not fit the network (found only when loading)."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(checkpoint), framework="pt") as handle:
        metadata = handle.metadata()
    save_file({"model/not_a_layer.weight": torch.zeros(3)}, str(path), metadata=metadata)
    return path


def test_construction_reads_only_the_header_and_the_network_loads_on_first_resolve(
    tmp_path, checkpoint, overlapping_scene
):
    scene, boxes = overlapping_scene
    resolver = get_resolver("teacher", checkpoint=checkpoint)
    assert not resolver.loaded and resolver._model is None
    # what other code reads comes from the header: config, class set, membership level
    assert resolver.config == TINY and resolver.model_class_set == SCANNET18
    assert resolver.level == TINY.membership_level and resolver.checkpoint == checkpoint
    result = resolver.resolve(scene, boxes)
    assert resolver.loaded and resolver.load_error is None
    assert (result.overlap_counts >= 2).any()
    # a run folder names its best (else last) checkpoint
    run = tmp_path / "run" / "checkpoints"
    run.mkdir(parents=True)
    (run / "last.safetensors").write_bytes(checkpoint.read_bytes())
    assert get_resolver("teacher", checkpoint=tmp_path / "run").checkpoint == run / "last.safetensors"


def test_construction_does_not_import_torch(checkpoint):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from beep3d.resolve.teacher_resolver import TeacherResolver\n"
        f"TeacherResolver({str(checkpoint)!r})\n"
        "assert 'torch' not in sys.modules and 'spconv' not in sys.modules, 'construction imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_bad_checkpoints_are_refused_at_construction_with_a_clear_message(tmp_path, checkpoint):
    data = checkpoint.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    torch.save({"x": 1}, tmp_path / "pickled.pt")
    (tmp_path / "empty").mkdir()
    expected = {
        "missing.safetensors": "not found",
        "cut.safetensors": "not a BEEP3D checkpoint",
        "pickled.pt": "refused",
        "empty": "no best.safetensors or last.safetensors",
    }
    for name, message in expected.items():
        with pytest.raises(Beep3dError, match=message):
            get_resolver("teacher", checkpoint=tmp_path / name)


def test_a_checkpoint_that_does_not_fit_the_network_fails_on_first_resolve_and_stays_failed(
    tmp_path, checkpoint, overlapping_scene
):
    scene, boxes = overlapping_scene
    resolver = get_resolver(
        "teacher", checkpoint=_misfit_checkpoint(tmp_path / "misfit.safetensors", checkpoint)
    )
    assert resolver.load_error is None
    with pytest.raises(Beep3dError, match="does not fit this network"):
        resolver.resolve(scene, boxes)
    assert "does not fit this network" in resolver.load_error and not resolver.loaded
    with pytest.raises(Beep3dError, match="does not fit this network"):  # at once, without a new load
        resolver.load()


def test_overlap_score_is_chosen_per_resolver_and_weighs_the_logits_by_box_density(
    checkpoint, overlapping_scene
):
    scene, boxes = overlapping_scene
    assert get_resolver("teacher", checkpoint=checkpoint).overlap_score == "logit_minus_log_volume"
    # a 2 cm thin chair box inside the shared slab: 1/120 of the table box's volume (log ratio 4.8),
    # far more than the untrained network's logits differ by, so it takes every shared point
    sliver = BoxSet([boxes[0], Box(20, "chair", (1.0, 0.4, 0.45), (0.02, 0.42, 0.92))])
    shared = sliver.membership(scene.xyz).dense().sum(axis=1) == 2
    assert shared.sum() >= 5
    # min_recognition=0: the untrained network recognises nothing, and the fallback would hide the score
    weighted = get_resolver("teacher", checkpoint=checkpoint, min_recognition=0).resolve(scene, sliver)
    assert (weighted.instance_ids[shared] == 20).all()
    plain = get_resolver("teacher", checkpoint=checkpoint, overlap_score="logit", min_recognition=0).resolve(
        scene, sliver
    )
    assert (plain.instance_ids[shared] == 10).any()  # bare logits: the table wins some
    with pytest.raises(Beep3dError, match="overlap score"):
        get_resolver("teacher", checkpoint=checkpoint, overlap_score="area")


def test_an_untrained_teacher_falls_back_to_the_smallest_box_where_it_recognises_nothing(
    checkpoint, overlapping_scene
):
    scene, boxes = overlapping_scene
    smallest = get_resolver("smallest-box").resolve(scene, boxes).instance_ids
    guarded = get_resolver("teacher", checkpoint=checkpoint, min_recognition=1.0).resolve(scene, boxes)
    assert np.array_equal(guarded.instance_ids, smallest)
    with pytest.raises(Beep3dError, match="min_recognition"):
        get_resolver("teacher", checkpoint=checkpoint, min_recognition=1.5)


@pytest.mark.slow
def test_the_shipped_teacher_loads_and_beats_the_smallest_box_rule_on_the_demo_room():
    """The checkpoint users get by default: it loads, resolves the demo room, and is better than the rule.

    The demo room (evaluation seed 104242) was never trained on. README: mACC 0.824 against 0.782.
    """
    from pathlib import Path

    from beep3d.defaults import DEFAULT_CHECKPOINT
    from beep3d.geometry.overlap import membership_for
    from beep3d.io import load_scene
    from beep3d.io.box_files import load_boxes
    from beep3d.metrics.mask_quality import mean_instance_iou, overlap_accuracy
    from beep3d.resolve.resolution import DECIDED_BY_NETWORK
    from beep3d.resolve.resolvers import get_resolver
    from beep3d.resolve.teacher_resolver import TeacherResolver

    assets = Path(__file__).resolve().parents[2] / "assets"
    scene = load_scene(assets / "demo" / "demo_room.ply")
    boxes = load_boxes(assets / "demo" / "demo_room.boxes.json")
    membership = membership_for(scene, boxes, "point")
    pairs = (membership.point_index, boxes.ids[membership.box_index])
    teacher = TeacherResolver(DEFAULT_CHECKPOINT, level="point", threads=1).resolve(scene, boxes)
    rule = get_resolver("smallest-box", level="point").resolve(scene, boxes)
    teacher_acc = overlap_accuracy(teacher.instance_ids, scene.instance, *pairs)
    rule_acc = overlap_accuracy(rule.instance_ids, scene.instance, *pairs)
    assert teacher_acc.eligible > 1000
    assert teacher_acc.value >= rule_acc.value + 0.02, (teacher_acc.value, rule_acc.value)
    teacher_iou = mean_instance_iou(teacher.instance_ids, scene.instance, boxes.ids).value
    rule_iou = mean_instance_iou(rule.instance_ids, scene.instance, boxes.ids).value
    assert teacher_iou > rule_iou
    # the network itself decides a real share of the contests, not only the rules
    assert np.count_nonzero(teacher.decided_by == DECIDED_BY_NETWORK) > 0.1 * np.count_nonzero(
        teacher.overlap_counts >= 2
    )


def test_warm_up_loads_the_network_leaves_the_scene_cache_alone_and_changes_no_result(
    checkpoint, overlapping_scene
):
    scene, boxes = overlapping_scene
    cold = get_resolver("teacher", checkpoint=checkpoint).resolve(scene, boxes)
    resolver = get_resolver("teacher", checkpoint=checkpoint)
    resolver.resolve(scene, boxes)  # the scene's encoding is cached
    cached = resolver._encoding
    warm = get_resolver("teacher", checkpoint=checkpoint)
    warm.warm_up()
    assert warm.loaded and not warm._has_encoding(scene)
    resolver.warm_up()
    assert resolver._encoding is cached, "warming up must not replace the scene's cached encoding"
    for result in (warm.resolve(scene, boxes), resolver.resolve(scene, boxes)):
        np.testing.assert_array_equal(result.instance_ids, cold.instance_ids)
        np.testing.assert_array_equal(result.confidence, cold.confidence)
        np.testing.assert_array_equal(result.decided_by, cold.decided_by)


def test_warm_up_of_a_checkpoint_that_does_not_fit_fails_as_load_does(tmp_path, checkpoint):
    resolver = get_resolver(
        "teacher", checkpoint=_misfit_checkpoint(tmp_path / "misfit.safetensors", checkpoint)
    )
    with pytest.raises(Beep3dError, match="does not fit this network"):
        resolver.warm_up()
    assert "does not fit this network" in resolver.load_error


def test_the_thread_count_is_set_again_whenever_the_network_runs(checkpoint, overlapping_scene):
    scene, boxes = overlapping_scene
    before = torch.get_num_threads()
    try:
        resolver = get_resolver("teacher", checkpoint=checkpoint, threads=1)
        resolver.load()
        torch.set_num_threads(2)  # as numba's OpenMP kernels (the superpoints') leave it
        first = resolver.resolve(scene, boxes)
        assert torch.get_num_threads() == 1
        torch.set_num_threads(2)
        moved = boxes.with_box(boxes[1].moved(center=(1.25, 0.4, 0.45)))
        resolver.resolve(scene, moved)  # backbone cached: the decoder alone runs
        assert torch.get_num_threads() == 1
        np.testing.assert_array_equal(resolver.resolve(scene, boxes).instance_ids, first.instance_ids)
    finally:
        torch.set_num_threads(before)


def test_a_first_resolution_finds_the_scan_geometry_in_a_child_while_the_teacher_loads(
    checkpoint, monkeypatch
):
    from beep3d.geometry import child_geometry
    from beep3d.resolve import pipeline
    from beep3d.resolve.foreground import get_foreground
    from tests.geometry.test_child_geometry import room_scan

    started, original = [], child_geometry.GeometryChild.start

    def spied_start(*args, **kwargs):
        child = original(*args, **kwargs)
        started.append(child)
        return child

    monkeypatch.setattr(pipeline.GeometryChild, "start", spied_start)  # the same class: restored after
    monkeypatch.setattr(pipeline, "network_imported", lambda: False)  # as in a fresh process
    boxes = BoxSet(
        [
            Box(1, "table", (2.0, 1.5, 0.6), (1.8, 1.4, 1.3)),
            Box(2, "chair", (2.6, 1.5, 0.6), (1.0, 1.0, 1.3)),
        ]
    )
    scene, alone = room_scan(), room_scan()
    resolver = get_resolver("teacher", checkpoint=checkpoint, threads=1)
    result = pipeline.annotate(scene, boxes, resolver, foreground=get_foreground("geometric"))
    assert len(started) == 1 and started[0] is not None and resolver.loaded
    assert result.foreground.background.any()  # the floor under the table left its mask

    pipeline.annotate(alone, boxes, resolver, foreground=get_foreground("geometric"))
    assert len(started) == 1  # a loaded teacher: the geometry is found in this process
    monkeypatch.setattr(pipeline, "network_imported", lambda: True)
    imported = get_resolver("teacher", checkpoint=checkpoint, threads=1)
    pipeline.annotate(room_scan(), boxes, imported, foreground=get_foreground("geometric"))
    assert len(started) == 1 and imported.loaded  # torch and the network imported: loading is cheap, no child
    monkeypatch.setattr(pipeline, "network_imported", lambda: False)
    monkeypatch.setattr(child_geometry, "MIN_POINTS", 10**9)
    fresh = get_resolver("teacher", checkpoint=checkpoint, threads=1)
    expected = pipeline.annotate(room_scan(), boxes, fresh, foreground=get_foreground("geometric"))
    assert started[-1] is None  # the child was not worth it, the same result without it
    assert np.array_equal(result.labels.instance_ids, expected.labels.instance_ids)
    assert np.array_equal(result.labels.confidence, expected.labels.confidence)
