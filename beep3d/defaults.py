"""The defaults the command line, the window and the library share, in one place.

Where the shipped teacher lives, where a scene's boxes are saved, which resolver ``auto`` means, and
the membership rule used when none is asked for.
"""

from __future__ import annotations

from pathlib import Path

from beep3d.errors import Beep3dError

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

    A scene folder holding its own ``boxes.json`` (a project scene folder, written by the export and
    by ``beep3d-synth``) keeps its boxes there: that file is the default, so saving writes it back.

    Parameters
    ----------
    scene_path
        A scan file or scene folder.
    """
    scene_path = Path(scene_path)
    if scene_path.is_dir() and (scene_path / "boxes.json").is_file():
        return scene_path / "boxes.json"
    base = scene_path.parent / scene_path.name if scene_path.is_dir() else scene_path.with_suffix("")
    return base.parent / f"{base.name}.boxes.json"


def check_checkpoint_given(checkpoint: Path | None) -> None:
    """Refuse a checkpoint asked for by name (``--checkpoint``) that does not exist.

    Nothing falls back to another resolver because of a mistyped path: the annotator asked for that
    teacher.

    Parameters
    ----------
    checkpoint
        The checkpoint file or run folder given; None (none given) is not checked.

    Raises
    ------
    Beep3dError
        ``checkpoint`` names no file or folder; the message names the path.
    """
    if checkpoint is not None and not Path(checkpoint).exists():
        raise Beep3dError(
            f"{checkpoint}: checkpoint not found (--checkpoint names no file or folder); check the path (a "
            "checkpoint file or a beep3d-train run folder), or leave --checkpoint out to use the shipped teacher"
        )


def choose_resolver_name(requested: str, checkpoint: Path | None) -> str:
    """Resolve "auto" to the teacher when a checkpoint exists, else to the smallest-box rule.

    Parameters
    ----------
    requested
        "auto" or a resolver name (returned as it is).
    checkpoint
        The checkpoint asked for; None means :data:`DEFAULT_CHECKPOINT` (when that is not installed,
        "auto" is the smallest-box rule).

    Raises
    ------
    Beep3dError
        ``checkpoint`` was given and does not exist (:func:`check_checkpoint_given`): never a silent
        fall back to the smallest-box rule.
    """
    check_checkpoint_given(checkpoint)
    if requested != "auto":
        return requested
    path = checkpoint or DEFAULT_CHECKPOINT
    return "teacher" if path.exists() else "smallest-box"
