"""Progress and cancel of a resolution: the pipeline's and the teacher's stages, and Cancel stopping them."""

import numpy as np
import pytest

from beep3d.classes import SCANNET18
from beep3d.geometry.boxes import Box, BoxSet
from beep3d.resolve.foreground import get_foreground
from beep3d.resolve.pipeline import annotate
from beep3d.resolve.progress import Cancelled, Progress
from beep3d.resolve.resolvers import get_resolver
from beep3d.scene import Scene


def _scene(superpoints: bool = True) -> tuple[Scene, BoxSet]:
    """A table top with a chair pushed into it on a floor: 3,000 points, many in both boxes."""
    rng = np.random.default_rng(0)
    floor = np.column_stack([rng.uniform(-1, 3, 1000), rng.uniform(-1, 2, 1000), np.zeros(1000)])
    table = rng.uniform([0, 0, 0.6], [1.2, 0.8, 0.7], size=(1000, 3))
    chair = rng.uniform([0.9, 0.2, 0.0], [1.5, 0.6, 0.9], size=(1000, 3))
    xyz = np.concatenate([floor, table, chair]).astype(np.float32)
    rgb = np.repeat(np.array([[120, 120, 120], [200, 200, 200], [40, 40, 40]], np.uint8), 1000, axis=0)
    scene = Scene(xyz=xyz, rgb=rgb, superpoints=(np.arange(3000) // 20) if superpoints else None, name="t")
    boxes = BoxSet(
        [
            Box(10, "table", (0.6, 0.4, 0.45), (1.22, 0.82, 0.92)),
            Box(20, "chair", (1.2, 0.4, 0.45), (0.62, 0.42, 0.92)),
        ]
    )
    return scene, boxes


def _recorder() -> tuple[Progress, list[tuple[float, str]]]:
    seen: list[tuple[float, str]] = []
    return Progress(lambda fraction, stage: seen.append((fraction, stage))), seen


def test_a_part_maps_onto_its_span_and_shares_the_cancel_flag():
    progress, seen = _recorder()
    part = progress.part(0.2, 0.6)
    part.report(0.5, "inner")
    assert seen == [(pytest.approx(0.4), "inner")]
    progress.cancel()
    with pytest.raises(Cancelled):
        part.check()
    with pytest.raises(Cancelled):
        part.report(0.9, "inner")
    assert len(seen) == 1  # a cancelled computation reports nothing more


def test_the_pipeline_reports_its_stages_in_order_and_gives_the_same_result():
    scene, boxes = _scene()
    resolver = get_resolver("smallest-box")
    progress, seen = _recorder()
    with_progress = annotate(
        scene, boxes, resolver, foreground=get_foreground("geometric"), progress=progress
    )
    stages = [stage for _, stage in seen]
    assert stages == [
        "box membership",
        "resolution",
        "room surfaces",
        "foreground",
        "corrections",
        "diagnostics",
    ]
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0
    plain = annotate(scene, boxes, resolver, foreground=get_foreground("geometric"))
    np.testing.assert_array_equal(with_progress.resolution.instance_ids, plain.resolution.instance_ids)


def test_a_cancelled_pipeline_raises_instead_of_returning_a_result():
    scene, boxes = _scene()
    # Cancel pressed while the membership is computed: the run stops before the resolver starts
    progress = Progress(lambda fraction, stage: progress.cancel() if stage == "box membership" else None)
    calls = []

    class Counting:
        class_set = SCANNET18

        def resolve(self, scene, boxes):
            calls.append(1)
            return get_resolver("smallest-box").resolve(scene, boxes)

    with pytest.raises(Cancelled):
        annotate(scene, boxes, Counting(), progress=progress)
    assert calls == []


torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from tests.training_fakes import save_untrained_checkpoint, tiny_model_config

    tiny = tiny_model_config()
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    save_untrained_checkpoint(path, tiny)
    return path


def test_the_teacher_reports_load_superpoints_backbone_and_decoder(checkpoint):
    scene, boxes = _scene(superpoints=False)
    resolver = get_resolver("teacher", checkpoint=checkpoint)
    progress, seen = _recorder()
    first = annotate(scene, boxes, resolver, progress=progress)
    stages = list(dict.fromkeys(stage for _, stage in seen))  # in order of first appearance
    assert stages == [
        "teacher model",
        "box membership",
        "resolution",
        "superpoints",
        "teacher backbone",
        "teacher decoder",
        "foreground",
        "corrections",
        "diagnostics",
    ]
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    # a second resolution of the same scan reuses the encoding: only the decoder is reported
    progress, seen = _recorder()
    again = annotate(
        scene, boxes.with_box(boxes[1].moved(center=(1.25, 0.4, 0.45))), resolver, progress=progress
    )
    assert {s for _, s in seen} & {"teacher model", "superpoints", "teacher backbone"} == set()
    assert "teacher decoder" in {s for _, s in seen}
    assert again.resolution.instance_ids.shape == first.resolution.instance_ids.shape


def test_cancel_inside_the_backbone_stops_it_and_caches_nothing(checkpoint):
    scene, boxes = _scene(superpoints=False)
    resolver = get_resolver("teacher", checkpoint=checkpoint)
    resolver.load()
    layers_run = []

    def on_report(fraction: float, stage: str) -> None:
        if stage == "teacher backbone":
            layers_run.append(fraction)
            if len(layers_run) == 3:
                progress.cancel()  # as the window's Cancel does, from another thread

    progress = Progress(on_report)
    with pytest.raises(Cancelled):
        resolver.resolve(scene, boxes, progress=progress)
    assert len(layers_run) == 3  # the share moved between layers, and no layer ran after the cancel
    assert not resolver._has_encoding(scene)
    # the next resolution starts clean and equals a fresh resolver's
    fresh = get_resolver("teacher", checkpoint=checkpoint).resolve(
        Scene(xyz=scene.xyz, rgb=scene.rgb, superpoints=scene.superpoints, name="t"), boxes
    )
    np.testing.assert_array_equal(resolver.resolve(scene, boxes).instance_ids, fresh.instance_ids)


def _room_and_boxes():
    from tests.geometry.test_child_geometry import room_scan

    boxes = BoxSet(
        [
            Box(1, "table", (2.0, 1.5, 0.6), (1.8, 1.4, 1.3)),
            Box(2, "chair", (2.6, 1.5, 0.6), (1.0, 1.0, 1.3)),
        ]
    )
    return room_scan(), boxes


def test_a_first_resolution_reports_the_child_geometry_and_cancel_stops_the_child(checkpoint, monkeypatch):
    """A scan big enough for a child process: its wait is reported (the bar moves), and Cancel
    during it stops the child and leaves nothing behind."""
    from beep3d.geometry.child_geometry import GeometryChild
    from beep3d.geometry.room_surfaces import room_known
    from beep3d.resolve import pipeline

    stopped, stop = [], GeometryChild.stop
    monkeypatch.setattr(GeometryChild, "stop", lambda child: stopped.append(child) or stop(child))
    monkeypatch.setattr(pipeline, "network_imported", lambda: False)  # as in a fresh process

    def first_resolution(progress: Progress, scene: Scene, boxes: BoxSet) -> None:
        teacher = get_resolver("teacher", checkpoint=checkpoint, threads=1)
        annotate(scene, boxes, teacher, foreground=get_foreground("geometric"), progress=progress)

    progress, seen = _recorder()
    first_resolution(progress, *_room_and_boxes())
    stages = list(dict.fromkeys(stage for _, stage in seen))
    assert stages[:3] == ["teacher model", "superpoints and room surfaces", "box membership"]
    waits = [f for f, s in seen if s == "superpoints and room surfaces"]
    assert len(waits) >= 2 and waits[-1] > waits[0]  # the torch import is done here: the child is waited for
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)

    progress = Progress(
        lambda fraction, stage: progress.cancel() if stage.startswith("superpoints") else None
    )
    scene, boxes = _room_and_boxes()
    with pytest.raises(Cancelled):
        first_resolution(progress, scene, boxes)
    assert scene.superpoints is None and not room_known(scene)
    assert stopped and stopped[0]._process.returncode is not None  # killed, not left running


def test_work_that_cannot_report_is_watched_from_outside():
    """A network's load says nothing while it runs: it runs in a thread and is reported on from here;
    its error is raised here, and a cancel stops the watching (the load finishes unwatched)."""
    import time

    from beep3d.errors import Beep3dError
    from beep3d.resolve.pipeline import run_reporting

    ticks = []
    run_reporting(lambda: time.sleep(0.3), lambda: ticks.append(time.perf_counter()), every=0.02)
    assert len(ticks) >= 5
    with pytest.raises(Beep3dError, match="cannot be loaded"):
        run_reporting(lambda: (_ for _ in ()).throw(Beep3dError("cannot be loaded")), lambda: None)
    progress = Progress()
    progress.cancel()
    started = time.perf_counter()
    with pytest.raises(Cancelled):
        run_reporting(lambda: time.sleep(2.0), progress.check)
    assert time.perf_counter() - started < 1.0
