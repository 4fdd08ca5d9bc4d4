"""The window's resolution worker: each job starts from the newest finished result, shown or not."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def test_a_result_overtaken_by_newer_edits_is_not_shown_but_the_next_job_starts_from_it(qtbot, monkeypatch):
    import beep3d.app.live as live
    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.resolve.resolvers import get_resolver
    from beep3d.scene import Scene

    rng = np.random.default_rng(0)
    scene = Scene(xyz=rng.uniform(0, 2, (5000, 3)).astype(np.float32), rgb=np.zeros((5000, 3), np.uint8))
    resolver = get_resolver("smallest-box")
    reused = []
    original = live.resolve_for_view

    def spy(*args, **kwargs):
        reused.append(args[7])  # the previous result the job starts from
        return original(*args, **kwargs)

    monkeypatch.setattr(live, "resolve_for_view", spy)
    worker = live.LiveResolver()
    shown = []
    worker.resultReady.connect(shown.append)
    boxes = [BoxSet([Box(1, "chair", (0.5 + 0.05 * i, 1, 1), (0.8, 0.8, 0.8))]) for i in range(3)]
    for box_set in boxes:  # the first runs at once; the third replaces the second while it waits
        worker.request(scene, box_set, resolver)
    assert worker.wait_idle()
    assert worker.dropped == 1 and [r.boxes for r in shown] == [boxes[2]]
    assert len(reused) == 2 and reused[0] is None
    assert reused[1] is not None and reused[1].boxes == boxes[0], "the dropped result is the next job's base"
    assert worker.last_result is shown[-1]
    worker.shutdown()


def test_with_the_teacher_a_nudge_is_incremental_and_an_export_resolves_in_full(window, qtbot, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("spconv")
    from beep3d.geometry.boxes import Box, BoxSet
    from beep3d.io import write_ply
    from beep3d.io.box_files import save_boxes
    from beep3d.resolve.foreground import get_foreground
    from beep3d.resolve.pipeline import annotate
    from beep3d.resolve.resolvers import get_resolver
    from tests.training_fakes import save_untrained_checkpoint, tiny_model_config

    rng = np.random.default_rng(0)
    floor = np.column_stack([rng.uniform(0, 4, (6000, 2)), rng.normal(0, 0.005, 6000)])
    blocks = [rng.uniform((x - 0.3, 0.7, 0.0), (x + 0.3, 1.3, 0.6), (2500, 3)) for x in (1.0, 1.55, 2.1)]
    xyz = np.concatenate([floor, *blocks]).astype(np.float32)
    write_ply(tmp_path / "row.ply", xyz, rng.integers(0, 255, (len(xyz), 3)).astype(np.uint8))
    boxes = BoxSet(
        [Box(k + 1, "cabinet", (x, 1.0, 0.32), (0.75, 0.7, 0.66)) for k, x in enumerate((1.0, 1.55, 2.1))]
    )
    save_boxes(tmp_path / "row.boxes.json", boxes)
    checkpoint = save_untrained_checkpoint(
        tmp_path / "pinned.safetensors", tiny_model_config(teacher_query_init="box_centers")
    )
    assert window.files.open_scene(tmp_path / "row.ply", tmp_path / "row.boxes.json")
    assert window.resolvers.select("teacher", str(checkpoint))
    qtbot.waitUntil(lambda: not window.live.busy and window.result is not None, timeout=120_000)
    teacher = window.resolvers.resolver
    teacher.exact_pairs = 0  # this scene is small: an edit would decode every query again
    assert teacher.is_exact(window.result.resolved)

    window.doc.select(2)
    before = window.doc.box(2)
    window.nudge("move", 1, 0)
    assert window.doc.box(2).center != before.center
    assert window.live.wait_idle(120_000)
    assert window.result.boxes == window.doc.boxes
    assert not teacher.is_exact(window.result.resolved), "a nudge decodes only the queries it touches"

    written = window.files.export_to(tmp_path / "export")
    assert written and not window.errors_shown
    exported = np.load(tmp_path / "export" / "instance_ids.npy")
    scene = window.doc.scene
    headless = annotate(
        scene,
        window.doc.boxes,
        get_resolver("teacher", checkpoint=checkpoint),
        foreground=get_foreground(window.resolvers.foreground_mode),
    )
    np.testing.assert_array_equal(exported.reshape(-1)[: scene.num_points], headless.resolution.instance_ids)
    assert teacher.is_exact(window.result.resolved), "the window shows the full result it exported"
