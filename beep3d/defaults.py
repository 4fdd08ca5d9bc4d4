"""The defaults the command line, the window and the library share, in one place.

Where the shipped teacher lives, where a scene's boxes are saved, which resolver ``auto`` means, and
the membership rule used when none is asked for.
"""

from __future__ import annotations

from pathlib import Path

#: The teacher checkpoint shipped with the tool (see assets/checkpoints/MODEL_CARD.md).
DEFAULT_CHECKPOINT = (
    Path(__file__).resolve().parent.parent / "assets" / "checkpoints" / "beep3d_small.safetensors"
)
#: Box membership when none is asked for: per point ("superpoint" is GaPro's rule).
DEFAULT_MEMBERSHIP = "point"
#: Superpoint membership: the share of a superpoint's points that must lie inside a box.
DEFAULT_SHARE = 0.5
#: The foreground stage of the command line and the window (:mod:`beep3d.resolve.foreground`):
#: floor, wall and ceiling points leave the boxes. "model" measured worse on the validation rooms
#: (see the README's "Masks tighter than boxes").
DEFAULT_FOREGROUND = "geometric"


def default_boxes_path(scene_path: Path) -> Path:
    """Where the boxes of a scene live by default: ``<scene>.boxes.json`` beside the scene.

    Parameters
    ----------
    scene_path
        A scan file or scene folder.
    """
    scene_path = Path(scene_path)
    base = scene_path.parent / scene_path.name if scene_path.is_dir() else scene_path.with_suffix("")
    return base.parent / f"{base.name}.boxes.json"


def choose_resolver_name(requested: str, checkpoint: Path | None) -> str:
    """Resolve "auto" to the teacher when a checkpoint exists, else to the smallest-box rule.

    Parameters
    ----------
    requested
        "auto" or a resolver name (returned as it is).
    checkpoint
        The checkpoint asked for; None means :data:`DEFAULT_CHECKPOINT`.
    """
    if requested != "auto":
        return requested
    path = checkpoint or DEFAULT_CHECKPOINT
    return "teacher" if path.exists() else "smallest-box"
