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
