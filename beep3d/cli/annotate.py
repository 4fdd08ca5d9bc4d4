"""The options of ``beep3d-annotate`` and its headless export (no Qt here).

    beep3d-annotate SCENE --boxes B.json --export OUT       # no window: resolve, write every format

The command's entry point is :func:`beep3d.app.cli.main`: it opens the window, or, with ``--export``,
calls :func:`run_headless` here. Errors a user can cause are printed as one line (no traceback) and
exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from beep3d.cli.user_errors import report_user_errors
from beep3d.defaults import (
    DEFAULT_CHECKPOINT,
    DEFAULT_FOREGROUND,
    DEFAULT_MEMBERSHIP,
    DEFAULT_SHARE,
    choose_resolver_name,
    default_boxes_path,
)
from beep3d.errors import Beep3dError
from beep3d.native_threads import limit_native_threads

if TYPE_CHECKING:
    from beep3d.classes import ClassSet
    from beep3d.corrections import Corrections
    from beep3d.geometry.boxes import BoxSet
    from beep3d.io.box_files import BoxFlags
    from beep3d.io.report import LoadReport
    from beep3d.resolve.pipeline import AnnotationResult
    from beep3d.resolve.resolution import Resolver
    from beep3d.scene import Scene

__all__ = ["DEFAULT_CHECKPOINT", "build_parser", "main", "run_export", "run_headless", "run_reporting_errors"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beep3d-annotate",
        description="Draw 3D boxes on an indoor scan and turn them into per-point instance masks.",
    )
    parser.add_argument(
        "scene",
        nargs="?",
        help="scan: PLY, PCD, LAS/LAZ, E57, XYZ/PTS text, OBJ/OFF/GLB mesh, npy/npz; or a ScanNet, "
        "S3DIS or scene folder",
    )
    parser.add_argument(
        "--boxes",
        help="box file: project JSON, labelCloud, SUSTechPOINTS or Supervisely JSON, or a votenet / "
        "mmdetection3d box array (.npy); default: <scene>.boxes.json if present",
    )
    parser.add_argument(
        "--export",
        metavar="OUT",
        help="resolve without a window and write every export format to OUT (masks as npy, PLY, PCD, LAS "
        "and ScanNet files; the boxes in every box format)",
    )
    parser.add_argument(
        "--resolver",
        choices=("auto", "teacher", "smallest-box", "nearest-centre"),
        default="auto",
        help="how points in several boxes are decided (auto: the teacher when a checkpoint is given or "
        "the shipped one is installed, else smallest-box; a --checkpoint that does not exist is refused)",
    )
    parser.add_argument(
        "--checkpoint", help=f"teacher checkpoint (default: {DEFAULT_CHECKPOINT.name} shipped in assets/)"
    )
    parser.add_argument(
        "--membership",
        choices=("point", "superpoint"),
        default=DEFAULT_MEMBERSHIP,
        help="decide box membership per point, or per superpoint (GaPro's rule)",
    )
    parser.add_argument(
        "--share",
        type=float,
        default=DEFAULT_SHARE,
        help="superpoint membership: share of its points inside a box",
    )
    parser.add_argument(
        "--foreground",
        choices=("off", "geometric", "model"),
        default=DEFAULT_FOREGROUND,
        help="points inside a box that are not its object leave its mask: geometric (floor, walls and "
        "ceiling; the default), model (the teacher network's own mask), off (boxes keep every point)",
    )
    parser.add_argument("--class-set", help="class set JSON (default: the 18 ScanNet classes)")
    parser.add_argument(
        "--screenshot", metavar="PNG", help="open the window, render once, save it to PNG and exit"
    )
    parser.add_argument("--device", default="cpu", help="device for the teacher (cpu, cuda, cuda:1)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for the teacher network and the scan's kernels (default: every core); 1 on a "
        "machine other work shares",
    )
    return parser


def run_export(args: argparse.Namespace) -> int:
    """Headless resolution and export."""
    from beep3d.classes import SCANNET18, ClassSet
    from beep3d.io.export import export_all
    from beep3d.resolve.pipeline import annotate

    scene_path, boxes_path, inputs = _export_inputs(args)
    check_share(args.share)
    checkpoint = Path(args.checkpoint) if args.checkpoint else None
    name = choose_resolver_name(args.resolver, checkpoint)
    check_checkpoint_header(checkpoint)
    check_device(args.device, needed=name == "teacher" or args.foreground == "model")
    class_set = ClassSet.load(args.class_set) if args.class_set else SCANNET18
    started = time.perf_counter()
    scene, report, boxes, flags = _load_scan_and_boxes(scene_path, boxes_path, class_set)
    resolver = _export_resolver(name, args, checkpoint, class_set)
    stage = foreground_stage(args.foreground, resolver, checkpoint, args.device, args.threads)
    corrections = _load_scan_corrections(boxes_path, scene.num_points)
    result = annotate(scene, boxes, resolver, args.membership, args.share, stage, corrections)
    for problem in result.problems:
        if problem.kind in WARNED_PROBLEMS:
            print(f"beep3d-annotate: warning: {problem.message}", file=sys.stderr)
    written = export_all(
        scene,
        boxes,
        result.resolution,
        args.export,
        class_set,
        info=_export_info(
            args, name, boxes_path, checkpoint_used(resolver, stage), result, len(corrections), report
        ),
        kept=report.kept,
        corrections=corrections,
        hidden=flags.hidden,
        locked=flags.locked,
        inputs=inputs,
    )
    _print_file_notes(Path(args.export))
    analysis = result.analysis
    print(
        f"{scene.name}: {scene.num_points} points, {len(boxes)} boxes, "
        f"{analysis.num_single} in one box, {analysis.num_multi} in several (resolved by {name}), "
        f"{left_as_background(result)} left their box as background (foreground {args.foreground}); "
        f"wrote {len(written)} files to {args.export} in {time.perf_counter() - started:.1f} s"
    )
    return 0


def _export_inputs(args: argparse.Namespace) -> tuple[Path, Path, list[tuple[str, object]]]:
    """The scan and box file of an export, and every input the export must not delete.

    Returns
    -------
    scene_path, boxes_path, inputs
        The scan, its box file (``--boxes`` or the scan's default), and (what, path) of each input.

    Raises
    ------
    Beep3dError
        No SCENE, no box file, or an input inside ``--export`` (the export replaces OUT as a whole).
    """
    from beep3d.io.staged_folder import check_inputs_outside

    if not args.scene:
        raise Beep3dError("--export needs a SCENE to resolve; see beep3d-annotate --help")
    scene_path = Path(args.scene)
    boxes_path = Path(args.boxes) if args.boxes else default_boxes_path(scene_path)
    if not boxes_path.exists():
        raise Beep3dError(f"{boxes_path}: box file not found; pass --boxes BOXES.json")
    # the export replaces OUT as a whole: refuse before any work if that would delete an input
    inputs = [
        ("scan", scene_path),
        ("box file", boxes_path),
        ("class set", args.class_set),
        ("checkpoint", args.checkpoint),
    ]
    check_inputs_outside(args.export, inputs)
    return scene_path, boxes_path, inputs


def _load_scan_and_boxes(
    scene_path: Path, boxes_path: Path, class_set: ClassSet
) -> tuple[Scene, LoadReport, BoxSet, BoxFlags]:
    """The scan, its :class:`~beep3d.io.report.LoadReport`, its boxes and their hidden / locked flags.

    The loader's notes and the labels outside ``class_set`` are printed to stderr as notes.
    """
    from beep3d.io import load_scene_with_report
    from beep3d.io.box_files import load_box_flags, load_boxes

    scene, report = load_scene_with_report(scene_path)
    for note in report.notes:
        print(f"beep3d-annotate: note: {scene_path.name}: {note}", file=sys.stderr)
    boxes = load_boxes(boxes_path, class_set, origin=scene.origin)
    flags = load_box_flags(boxes_path)  # hidden / locked: kept in the export's boxes.json
    unknown = sorted({b.label for b in boxes} - set(class_set.names))
    if unknown:
        print(
            f"beep3d-annotate: note: labels not in the class set get semantic id -1: {', '.join(unknown)}",
            file=sys.stderr,
        )
    return scene, report, boxes, flags


def _export_resolver(
    name: str, args: argparse.Namespace, checkpoint: Path | None, class_set: ClassSet
) -> Resolver:
    """The resolver ``name`` with the export's membership options (the teacher: its checkpoint)."""
    from beep3d.resolve.resolvers import get_resolver

    options: dict[str, object] = {"level": args.membership, "share": args.share, "class_set": class_set}
    if name == "teacher":
        if checkpoint is None and not DEFAULT_CHECKPOINT.exists():
            raise Beep3dError(
                f"no teacher checkpoint given and none is installed at {DEFAULT_CHECKPOINT}; train one with "
                "beep3d-train and pass --checkpoint RUN_DIR, or use --resolver smallest-box"
            )
        options.update(checkpoint=checkpoint or DEFAULT_CHECKPOINT, device=args.device, threads=args.threads)
    return get_resolver(name, **options)


def _load_scan_corrections(boxes_path: Path, num_points: int) -> Corrections:
    """The hand corrections stored with the boxes, for a scan of ``num_points`` (notes to stderr)."""
    from beep3d.io.box_files import load_corrections

    correction_notes: list[str] = []
    corrections = load_corrections(boxes_path, correction_notes).for_scan(num_points, str(boxes_path))
    for note in correction_notes:
        print(f"beep3d-annotate: note: {note}", file=sys.stderr)
    return corrections


def left_as_background(result: AnnotationResult) -> int:
    """How many points the foreground stage took out of their box and no correction gave back."""
    from beep3d.resolve.resolution import DECIDED_BY_FOREGROUND

    decided = result.resolution.decided_by
    if decided is None:
        return int(result.foreground.background.sum())
    return int((decided == DECIDED_BY_FOREGROUND).sum())


def _export_info(
    args: argparse.Namespace,
    name: str,
    boxes_path: Path,
    checkpoint: Path | None,
    result: AnnotationResult,
    num_corrections: int,
    report: LoadReport,
) -> dict[str, object]:
    """What ``export.json`` records of how the export was made (resolver, options, counts; the teacher
    checkpoint used by the resolver or by ``--foreground model``, None when no network ran)."""
    return {
        "resolver": name,
        "membership": args.membership,
        "share": args.share,
        "boxes_file": str(boxes_path.resolve()),
        "checkpoint": str(checkpoint) if checkpoint is not None else None,
        "foreground": args.foreground,
        "background_in_boxes": left_as_background(result),
        "corrections": num_corrections,
        "points_corrected": int(result.labels.corrected.sum()) if result.labels.corrected is not None else 0,
        "points_dropped_on_loading": {
            "non_finite": report.dropped_non_finite,
            "stray": report.dropped_far,
        },
    }


def _print_file_notes(export_dir: Path) -> None:
    """Print the notes ``export.json`` holds per written file (what a box format could not hold)."""
    summary = json.loads((export_dir / "export.json").read_text())
    for file_name, described in summary.get("file_notes", {}).items():
        for note in described.get("notes", []):  # what a box format could not hold
            print(f"beep3d-annotate: note: {file_name}: {note}", file=sys.stderr)


def checkpoint_used(resolver: object, stage: object) -> Path | None:
    """The teacher checkpoint a run used: the teacher resolver's, else ``--foreground model``'s teacher's."""
    for user in (resolver, getattr(stage, "teacher", None)):
        checkpoint = getattr(user, "checkpoint", None)
        if checkpoint is not None:
            return Path(checkpoint)
    return None


def check_share(share: float) -> None:
    """Refuse a ``--share`` outside (0, 1], whichever ``--membership`` (before the scan loads)."""
    if not 0.0 < share <= 1.0:  # NaN fails this too
        raise Beep3dError(
            f"--share {share} is no share: give a fraction in (0, 1], e.g. --share {DEFAULT_SHARE} (the "
            "share of a superpoint's points that must be inside a box)"
        )


def check_checkpoint_header(checkpoint: Path | None) -> None:
    """Refuse a ``--checkpoint`` that is no BEEP3D checkpoint even when the run would not use it
    (as a missing one is refused); reads its header only."""
    if checkpoint is None:
        return
    from beep3d.model.weights import read_checkpoint_info

    read_checkpoint_info(checkpoint)


#: The devices --device accepts: the CPU, or a CUDA GPU (its index optional).
DEVICE_PATTERN = re.compile(r"cpu|cuda(:\d+)?")


def check_device(device: str, needed: bool = True) -> None:
    """Refuse a ``--device`` that is no device, or (when the network runs) a GPU this machine lacks.

    Parameters
    ----------
    device
        The ``--device`` value: ``cpu``, ``cuda`` or ``cuda:N``.
    needed
        Whether the teacher network runs (the teacher resolver or ``--foreground model``); only then
        is torch imported to check that the GPU exists.

    Raises
    ------
    Beep3dError
        ``device`` is not of that form, or ``needed`` and no CUDA GPU (or not GPU ``N``) is available.
    """
    if not DEVICE_PATTERN.fullmatch(device):
        raise Beep3dError(f"--device {device!r} is no device; use cpu, cuda or cuda:N (N the GPU's index)")
    if not needed or device == "cpu":
        return
    import torch

    if not torch.cuda.is_available():
        raise Beep3dError(f"--device {device} was asked for but no CUDA GPU is available; use --device cpu")
    index = int(device.partition(":")[2] or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise Beep3dError(
            f"--device {device}: this machine has {count} CUDA GPU(s), cuda:0..cuda:{count - 1}; choose one of them"
        )


def foreground_stage(
    mode: str, resolver: object, checkpoint: Path | None, device: str = "cpu", threads: int | None = None
):
    """The foreground stage ``mode`` for a run; "model" uses the teacher resolving the run, or loads one."""
    from beep3d.resolve.foreground import get_foreground
    from beep3d.resolve.teacher_resolver import TeacherResolver

    if mode != "model":
        return get_foreground(mode)
    teacher = resolver if isinstance(resolver, TeacherResolver) else None
    if teacher is None:
        path = checkpoint or DEFAULT_CHECKPOINT
        if not Path(path).exists():
            raise Beep3dError(
                f"--foreground model needs a teacher checkpoint and none is at {path}; pass --checkpoint "
                "or use --foreground geometric"
            )
        teacher = TeacherResolver(path, device=device, threads=threads)
    return get_foreground("model", teacher=teacher)


#: Problems the headless export prints as warnings: boxes that cannot hold an object's points (the
#: window lists every problem).
WARNED_PROBLEMS = ("empty", "degenerate")


def main(argv: list[str] | None = None) -> int:
    """Headless ``beep3d-annotate ... --export OUT``; returns the exit status.

    The ``beep3d-annotate`` command itself is :func:`beep3d.app.cli.main`, which opens the window when
    no ``--export`` is given and otherwise comes here (this package never imports Qt).
    """
    args = build_parser().parse_args(argv)
    return run_headless(args)


def run_reporting_errors(command: Callable[[], int]) -> int:
    """Run the body of ``beep3d-annotate`` and turn the errors a user can cause into an exit status.

    Shared by the headless export (:func:`run_headless`) and the window (:func:`beep3d.app.cli.main`).

    Parameters
    ----------
    command
        The work to do, called with no arguments; returns the exit status.

    Returns
    -------
    int
        The status ``command`` returned; 2 after a :class:`~beep3d.errors.Beep3dError`, whose message
        is printed to stderr as one line (no traceback); 130 after Ctrl-C (silently).
    """
    return report_user_errors(command, "beep3d-annotate")


def run_headless(args: argparse.Namespace) -> int:
    """Run the export for parsed arguments; user errors print one line and give status 2."""

    def export() -> int:
        if args.export is None:
            raise Beep3dError(
                "the annotation window is started by beep3d-annotate; here only --export OUT is available"
            )
        if not args.export.strip():
            raise Beep3dError(
                f"--export was given an empty folder name ({args.export!r}); give the folder to write the "
                "export into, e.g. --export out/scene"
            )
        if args.screenshot is not None:
            raise Beep3dError(
                "--screenshot renders the window and --export runs without one; drop one of them "
                "(the export writes no screenshot)"
            )
        limit_native_threads(args.threads)
        return run_export(args)

    return run_reporting_errors(export)


if __name__ == "__main__":
    sys.exit(main())
