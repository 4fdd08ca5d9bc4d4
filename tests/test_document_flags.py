"""Hidden and locked boxes, several selected boxes and batch edits in the Qt-free document."""

from __future__ import annotations

import pytest

from beep3d.document import AnnotationDocument, Batch, ChangeBox, DeleteBox, History, SetBoxFlag
from beep3d.geometry.boxes import Box, BoxSet


@pytest.fixture
def doc(grid_scene):
    doc = AnnotationDocument()
    boxes = BoxSet([Box(i, "chair", (0.2 * i, 0.5, 0.5), (0.2, 0.2, 0.2)) for i in range(1, 4)])
    doc.set_scene(grid_scene, boxes=boxes)
    return doc


def test_hide_and_lock_are_undoable_and_hiding_deselects(doc):
    history = History(doc)
    events = []
    doc.subscribe(events.append)
    doc.select_many([1, 2])
    history.push(SetBoxFlag((2,), "hidden", True))
    assert doc.hidden == {2} and [b.id for b in doc.visible_boxes()] == [1, 3]
    assert doc.selection == (1,) and doc.selected_id == 1
    assert "flags" in events
    history.push(SetBoxFlag((1, 3), "locked", True, text="Lock boxes"))
    assert not doc.editable(1) and doc.editable(2)
    history.undo()
    assert doc.locked == frozenset()
    history.undo()
    assert doc.hidden == frozenset() and len(doc.visible_boxes()) == 3
    history.redo()
    assert doc.hidden == {2}


def test_several_selected_boxes_change_class_and_delete_in_one_step(doc):
    history = History(doc)
    doc.select_many([3, 1], primary=3)
    assert doc.selected_id == 3 and [b.id for b in doc.selected_boxes] == [3, 1]
    history.push(
        Batch([ChangeBox(b, b.moved(label="table")) for b in doc.selected_boxes], text="Class table")
    )
    assert {doc.box(i).label for i in (1, 3)} == {"table"} and doc.box(2).label == "chair"
    history.push(Batch([DeleteBox(b.id) for b in doc.selected_boxes]))
    assert [b.id for b in doc.boxes] == [2] and doc.selection == () and doc.selected_id is None
    history.undo()
    assert [b.id for b in doc.boxes] == [1, 2, 3]
    history.undo()
    assert {doc.box(i).label for i in (1, 3)} == {"chair"}


def test_loading_other_boxes_drops_flags_and_selection_of_boxes_that_are_gone(doc):
    doc.select_many([1, 3])
    SetBoxFlag((3,), "locked", True).redo(doc)
    doc.set_boxes(BoxSet([Box(1, "chair", (0.2, 0.5, 0.5), (0.2, 0.2, 0.2))]))
    assert doc.selection == (1,) and doc.locked == frozenset()


def test_next_and_previous_skip_hidden_boxes(doc):
    SetBoxFlag((2,), "hidden", True).redo(doc)
    doc.select_step(1)
    assert doc.selected_id == 1
    doc.select_step(1)
    assert doc.selected_id == 3
    doc.select_step(1)
    assert doc.selected_id == 1  # wraps around, past the hidden box
    doc.select_step(-1)
    assert doc.selected_id == 3
    SetBoxFlag((1, 3), "hidden", True).redo(doc)
    doc.select_step(1)
    assert doc.selected_id is None


def test_undoing_a_delete_brings_the_boxes_back_hidden_and_locked_as_they_were(doc):
    """The undo of a delete put the box back shown (DeleteBox kept the box, not its flags)."""
    history = History(doc)
    SetBoxFlag((1, 2), "hidden", True).redo(doc)
    SetBoxFlag((2,), "locked", True).redo(doc)
    doc.select(1)  # a hidden box, as a click on its row of the box list selects it
    history.push(DeleteBox(1))
    assert doc.hidden == {2}
    history.undo()
    assert doc.hidden == {1, 2} and [b.id for b in doc.visible_boxes()] == [3]
    history.redo()
    history.undo()  # redo then undo again: the flags come back again
    assert doc.hidden == {1, 2}
    SetBoxFlag((2,), "locked", False).redo(doc)
    SetBoxFlag((3,), "locked", True).redo(doc)
    history.push(Batch([DeleteBox(2), DeleteBox(3)]))  # several boxes: each keeps its own flags
    assert [b.id for b in doc.boxes] == [1] and doc.hidden == {1} and doc.locked == frozenset()
    history.undo()
    assert [b.id for b in doc.boxes] == [1, 2, 3] and doc.hidden == {1, 2} and doc.locked == {3}


def test_a_change_of_one_of_several_selected_boxes_keeps_them_selected(doc):
    """A nudge or panel edit of the box the panel shows left only that box selected."""
    history = History(doc)
    doc.select_many([1, 3], primary=3)
    box = doc.box(3)
    history.push(ChangeBox(box, box.moved(center=(0.6, 0.5, 0.52)), merge_key="key-up-1-0"))
    assert doc.selection == (1, 3) and doc.selected_id == 3
    history.undo()
    assert doc.selection == (1, 3) and doc.selected_id == 3 and doc.box(3) == box
    doc.select_many([1, 2], primary=2)
    history.redo()  # a box outside the selection: it alone is selected, as before
    assert doc.selection == (3,) and doc.selected_id == 3
