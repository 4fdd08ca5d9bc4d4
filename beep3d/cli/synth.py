"""``beep3d-synth``: write procedural rooms with ground truth as scene folders.

    beep3d-synth OUT_DIR --count N --seed-start S [--val V] [--spacing 0.02] [--clutter 1.0] [--workers 1]

Writes ``OUT_DIR/synthetic_XXXXX/`` (``scene.npz`` + ``boxes.json``) for seeds S .. S+N-1 and prints,
per scene and on average, the share of points that lie in two or more ground-truth boxes. With
``--val V`` it also writes the split files ``beep3d-train`` reads: ``val.txt`` names the last V rooms
and ``train.txt`` the others.

Seeds: training rooms use seeds below 100000 (the shipped teacher's come from 0..9999); evaluation
rooms use seeds from 100000 (``beep3d.synthetic.rooms.EVAL_SEED_START``) upward, so the two never share
a room. A seed range that crosses 100000 is refused.

Each room is complete when its line is printed; Ctrl+C stops between rooms' writes without a
traceback (exit status 130), and the rooms printed so far stay usable.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from beep3d.cli.user_errors import report_user_errors
from beep3d.errors import Beep3dError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beep3d-synth",
        description="Write procedural indoor rooms (points, GT semantic + instance labels, GT boxes) as "
        "scene folders. Training uses seeds below 100000, evaluation seeds from 100000 upward.",
    )
    parser.add_argument("out_dir", type=str, help="folder that receives one synthetic_XXXXX/ folder per room")
    parser.add_argument("--count", type=int, required=True, help="number of rooms")
    parser.add_argument("--seed-start", type=int, required=True, help="seed of the first room (then +1 each)")
    parser.add_argument(
        "--spacing", type=float, default=0.02, help="surface sampling distance, metres (0.02)"
    )
    parser.add_argument("--clutter", type=float, default=1.0, help="furniture density; 1.0 is ScanNet-like")
    parser.add_argument("--oriented-boxes", action="store_true", help="boxes follow each object's yaw")
    parser.add_argument("--workers", type=int, default=1, help="processes generating rooms in parallel (1)")
    parser.add_argument(
        "--val",
        type=int,
        default=None,
        help="write train.txt / val.txt with the last VAL rooms for validation (for beep3d-train)",
    )
    return parser


def write_room(
    seed: int, out_dir: Path, spacing: float, clutter: float, oriented_boxes: bool
) -> tuple[str, int, int, float]:
    """Generate the room of ``seed`` and save it under ``out_dir``.

    Returns
    -------
    tuple
        (scene name, number of points, number of boxes, share of points in two or more boxes).
    """
    from beep3d.io import save_scene_folder
    from beep3d.synthetic.rooms import make_room, overlap_share

    scene, boxes = make_room(seed, spacing=spacing, clutter=clutter, oriented_boxes=oriented_boxes)
    save_scene_folder(scene, out_dir / scene.name, boxes)
    return scene.name, scene.num_points, len(boxes), overlap_share(scene.xyz, boxes)


def _check(args: argparse.Namespace) -> None:
    """Refuse bad arguments before anything is written."""
    from beep3d.synthetic.rooms import EVAL_SEED_START, check_room_parameters

    if not str(args.out_dir).strip():  # Path("") would be the current folder
        raise Beep3dError("OUT_DIR is empty; name the folder that receives the rooms")
    args.out_dir = Path(args.out_dir)
    check_room_parameters(args.spacing, args.clutter)
    if args.count < 1:
        raise Beep3dError(f"--count must be at least 1, got {args.count}")
    if args.seed_start < 0:
        raise Beep3dError(f"--seed-start must be >= 0, got {args.seed_start}")
    if args.workers < 1:
        raise Beep3dError(f"--workers must be at least 1, got {args.workers}")
    last = args.seed_start + args.count - 1
    if args.seed_start < EVAL_SEED_START <= last:
        raise Beep3dError(
            f"seeds {args.seed_start}..{last} cross {EVAL_SEED_START}, where evaluation rooms start; "
            f"write training rooms below {EVAL_SEED_START} and evaluation rooms from {EVAL_SEED_START} up "
            "in separate runs"
        )
    if args.val is not None and not 0 <= args.val < args.count:
        raise Beep3dError(f"--val must be between 0 and --count - 1 ({args.count - 1}), got {args.val}")
    if args.out_dir.exists() and not args.out_dir.is_dir():
        raise Beep3dError(f"{args.out_dir}: exists and is not a folder; choose a folder for the rooms")


def run(args: argparse.Namespace) -> list[tuple[str, int, int, float]]:
    """Write the rooms described by parsed arguments; returns one result tuple per room, in seed order."""
    from tqdm import tqdm

    _check(args)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    seeds = range(args.seed_start, args.seed_start + args.count)
    jobs = [(seed, args.out_dir, args.spacing, args.clutter, args.oriented_boxes) for seed in seeds]
    results: list[tuple[str, int, int, float]] = []
    progress = tqdm(total=len(jobs), unit="room", file=sys.stderr, disable=None)
    pool = ProcessPoolExecutor(max_workers=args.workers) if args.workers > 1 else None
    try:
        if pool is None:
            outputs = (write_room(*job) for job in jobs)
        else:
            outputs = pool.map(write_room, *zip(*jobs, strict=True))
        for name, num_points, num_boxes, share in outputs:
            results.append((name, num_points, num_boxes, share))
            line = (
                f"{name}: {num_points} points, {num_boxes} boxes, {100 * share:.1f}% of points in >= 2 boxes"
            )
            tqdm.write(line, file=sys.stdout)
            progress.update(1)
    finally:
        progress.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if args.val is not None:
        write_split(args.out_dir, [name for name, *_ in results], args.val)
    return results


def write_split(out_dir: Path, names: Sequence[str], num_val: int) -> None:
    """Write ``train.txt`` (all but the last ``num_val`` names) and ``val.txt`` (those), atomically."""
    from beep3d.io.atomic import write_text_atomic

    cut = len(names) - num_val
    write_text_atomic(out_dir / "train.txt", "".join(f"{n}\n" for n in names[:cut]))
    write_text_atomic(out_dir / "val.txt", "".join(f"{n}\n" for n in names[cut:]))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``beep3d-synth``; returns the exit status (0 ok, 2 user error)."""
    args = _parser().parse_args(argv)

    def write_rooms() -> int:
        started = time.perf_counter()
        try:
            results = run(args)
        except OSError as exc:
            raise Beep3dError(f"cannot write to {args.out_dir}: {exc}") from None
        mean_share = sum(r[3] for r in results) / len(results)
        elapsed = time.perf_counter() - started
        print(
            f"wrote {len(results)} rooms to {args.out_dir} in {elapsed:.1f} s; "
            f"mean share of points in >= 2 boxes: {100 * mean_share:.1f}%"
        )
        return 0

    return report_user_errors(write_rooms, "beep3d-synth", interrupted="the rooms printed above are complete")


if __name__ == "__main__":
    sys.exit(main())
