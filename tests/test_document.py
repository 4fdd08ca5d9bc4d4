"""The annotation document and its commands, without Qt: edits, selection, undo / redo, dirty flag."""

from __future__ import annotations

import numpy as np
import pytest

from beep3d.classes import SCANNET18
from beep3d.document import AddBox, AnnotationDocument, ChangeBox, DeleteBox, DuplicateBox, History
from beep3d.errors import Beep3dError
from beep3d.geometry.boxes import Box, BoxSet


@pytest.fixture
def doc(grid_scene) -> AnnotationDocument:
    document = AnnotationDocument(SCANNET18)
    boxes = BoxSet(
        [
            Box(0, "chair", (0.25, 0.25, 0.25), (0.5, 0.5, 0.5)),
            Box(1, "table", (0.7, 0.7, 0.5), (0.4, 0.4, 1)),
        ]
    )
    document.set_scene(grid_scene, "grid.ply", boxes)
    return document


def test_add_change_delete_and_undo_everything(doc):
    history = History(doc)
    events: list[str] = []
    doc.subscribe(events.append)
    original = doc.boxes
    history.push(AddBox(Box(doc.boxes.next_id(), "sofa", (0.5, 0.5, 0.5), (1, 1, 1))))
    assert len(doc.boxes) == 3 and doc.selected_id == 2 and doc.dirty
    moved = doc.box(0).moved(center=(0.3, 0.3, 0.3), yaw=0.5)
    history.push(ChangeBox(doc.box(0), moved))
    assert doc.box(0) == moved
    history.push(DeleteBox(1))
    assert doc.box(1) is None and [b.id for b in doc.boxes] == [0, 2]
    assert "boxes" in events
    while history.undo():
        pass
    assert doc.boxes == original  # same boxes, same order (the deleted box is back in its place)
    assert not history.can_undo and history.can_redo
    while history.redo():
        pass
    assert [b.id for b in doc.boxes] == [0, 2] and doc.box(0) == moved


def test_duplicate_gets_a_new_id_and_selection(doc):
    history = History(doc)
    history.push(DuplicateBox(1, doc.boxes.next_id(), offset=(0.5, 0.0, 0.0)))
    copy = doc.box(2)
    assert copy is not None and copy.label == "table" and doc.selected_id == 2
    np.testing.assert_allclose(copy.center, np.asarray(doc.box(1).center) + [0.5, 0, 0])
    history.undo()
    assert doc.box(2) is None and doc.selected_id == 1


def test_change_commands_with_the_same_key_merge_into_one_undo_step(doc):
    history = History(doc)
    start = doc.box(0)
    for step in range(1, 4):
        box = doc.box(0)
        history.push(ChangeBox(box, box.moved(center=(0.25 + 0.1 * step, 0.25, 0.25)), merge_key="key-move"))
    assert doc.box(0).center[0] == pytest.approx(0.55)
    history.undo()
    assert doc.box(0) == start and not history.can_undo
    # different keys stay separate steps
    box = doc.box(0)
    history.push(ChangeBox(box, box.moved(yaw=0.1), merge_key="key-yaw"))
    history.push(ChangeBox(doc.box(0), doc.box(0).moved(size=(1, 1, 1)), merge_key="key-size"))
    history.undo()
    assert doc.box(0).yaw == pytest.approx(0.1)


def test_selection_steps_and_wraps(doc):
    doc.select_step(1)
    assert doc.selected_id == 0
    doc.select_step(1)
    assert doc.selected_id == 1
    doc.select_step(1)
    assert doc.selected_id == 0
    doc.select_step(-1)
    assert doc.selected_id == 1
    doc.select(99)  # unknown ids clear the selection
    assert doc.selected_id is None


def test_current_class_must_exist(doc):
    doc.set_current_class("sofa")
    assert doc.current_class == "sofa"
    with pytest.raises(Beep3dError, match="unknown class"):
        doc.set_current_class("spaceship")


def test_preview_does_not_mark_dirty_but_the_final_change_does(doc):
    history = History(doc)
    start = doc.box(0)
    doc.preview_box(start.moved(center=(0.4, 0.4, 0.25)))
    assert not doc.dirty
    history.push(ChangeBox(start, start.moved(center=(0.5, 0.5, 0.25))))
    assert doc.dirty
    history.undo()
    assert doc.box(0) == start


def test_floor_height_is_estimated_once_per_scene(doc):
    assert doc.floor_height() == pytest.approx(0.0, abs=0.03)


def test_deleting_a_box_takes_its_corrections_so_a_new_box_with_its_id_inherits_none(doc):
    from beep3d.corrections import BACKGROUND, Correction
    from beep3d.document import AddCorrection, Batch

    history = History(doc)
    stroke = Correction("stroke", 1, True, np.arange(10))
    click = Correction("click", 0, False, np.array([20]))
    to_background = Correction("stroke", BACKGROUND, True, np.arange(30, 35))
    for correction in (stroke, click, to_background):
        history.push(AddCorrection(correction))
    history.push(Batch([DeleteBox(1)]))
    assert list(doc.corrections) == [click, to_background]
    history.push(AddBox(Box(doc.boxes.next_id(), "sofa", (0.9, 0.9, 0.5), (0.1, 0.1, 0.1))))
    assert doc.box(1).label == "sofa"  # the freed id is reused, without the deleted box's stroke
    assert all(c.box_id != 1 for c in doc.corrections)
    history.undo()
    history.undo()
    assert list(doc.corrections) == [stroke, click, to_background]  # back in their order
    history.redo()
    assert list(doc.corrections) == [click, to_background]


def test_the_revision_counts_every_change_a_box_file_holds_not_the_undo_steps(doc):
    from beep3d.corrections import Correction
    from beep3d.document import AddCorrection, SetBoxFlag

    history = History(doc)
    seen = [doc.revision]
    box = doc.box(0)
    for x in (0.3, 0.35):  # two presses of one key: merged into one undo step
        history.push(ChangeBox(doc.box(0), box.moved(center=(x, 0.25, 0.25)), merge_key="key-move"))
        seen.append(doc.revision)
    assert seen[2] > seen[1] > seen[0]
    history.push(AddCorrection(Correction("click", 0, True, [1])))
    history.undo()  # undone, and another edit made: as many undo steps as before, another state
    history.push(AddCorrection(Correction("click", 0, False, [2])))
    history.push(SetBoxFlag((1,), "locked", True))
    assert doc.revision > seen[2] + 3
    now = doc.revision
    doc.select(1)  # the selection is not saved
    assert doc.revision == now
