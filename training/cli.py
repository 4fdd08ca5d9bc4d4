"""``beep3d-train``: train or refit the BEEP3D student-teacher model.

Examples::

    beep3d-train --config small --data synth_rooms/ --out runs/small
    beep3d-train --config small --data synth_rooms/ --out runs/small --resume
    beep3d-train --config scannet --data /data/scannet --out runs/scannet --device cuda
    torchrun --nproc_per_node=4 -m beep3d.training.cli --config scannet --data ... --out ... --device cuda

CONFIG is a config shipped in training/configs (scannet, s3dis, small) or a YAML file. The kind of
data is detected from DIR (see :mod:`beep3d.training.datasets`). Errors a user can fix are printed
without a traceback and exit with status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from beep3d.cli.user_errors import report_user_errors
from beep3d.errors import Beep3dError
from beep3d.native_threads import limit_native_threads

if TYPE_CHECKING:
    from beep3d.training.config import TrainConfig
    from beep3d.training.trainer import TrainResult


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beep3d-train",
        description="Train the BEEP3D student-teacher network on boxed scenes (ScanNetV2, S3DIS, or scene "
        "folders exported by beep3d-annotate / written by beep3d-synth).",
    )
    parser.add_argument(
        "--config",
        required=True,
        help="config name (small, small_real, small_s3dis on a CPU; scannet, s3dis as in the paper) or a YAML file",
    )
    parser.add_argument(
        "--data",
        required=True,
        nargs="+",
        metavar="DIR",
        help="data folder(s): scene folders (scene.npz + boxes.json), S3DIS Area_N/<room>, ScanNet "
        "sceneXXXX_XX, or labelled *.ply scans; several folders are pooled",
    )
    parser.add_argument(
        "--val-scenes",
        nargs="+",
        default=None,
        metavar="PATTERN",
        help="scene names that validate, as shell patterns (e.g. 'scene0002_*' 'scene0004_*'); "
        "every other scene trains (overrides the config's val_scenes and any split files)",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="run folder for checkpoints, logs and curves: a new or empty folder (not inside an export "
        "of beep3d-annotate), or the run folder to --resume",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint"
    )
    parser.add_argument(
        "--device", choices=("cpu", "cuda"), default=None, help="default: cuda when available"
    )
    parser.add_argument(
        "--init",
        default=None,
        metavar="CHECKPOINT",
        help="start from this checkpoint's weights (a file or run folder, e.g. the shipped teacher) "
        "with a new optimizer and schedule: refits a trained teacher on your scenes",
    )
    parser.add_argument("--epochs", type=int, default=None, help="override the config's number of epochs")
    parser.add_argument(
        "--max-steps", type=int, default=None, help="stop after this many optimizer steps in total"
    )
    parser.add_argument(
        "--num-workers", type=int, default=None, help="override the config's DataLoader workers"
    )
    parser.add_argument("--seed", type=int, default=None, help="override the config's seed")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for torch (default: torch's choice; 1 is much faster when other jobs share the cores)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``beep3d-train``; returns the exit status (0 done, 2 user error)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def run() -> int:
        limit_native_threads(args.threads)  # refuses a --threads below 1 or above the machine's maximum
        return _run(args)

    return report_user_errors(run, "beep3d-train", interrupted="continue later with --resume")


def _run(args: argparse.Namespace) -> int:
    if args.resume and args.init is not None:
        raise Beep3dError(
            "--resume and --init do not go together: --resume continues the run in --out from its own "
            "last checkpoint, --init starts a new run from another checkpoint's weights; drop one "
            "(for --init, choose a new --out folder)"
        )
    from beep3d.training.run_folder import check_run_folder

    check_run_folder(args.out, args.resume)

    config = _config_of(args)
    if args.max_steps is not None and args.max_steps < 1:
        raise Beep3dError("--max-steps must be at least 1")

    from beep3d.training.datasets import build_datasets

    train_set, val_set, class_set, kind, has_split = build_datasets(args.data, config)
    _say(
        f"beep3d-train: {kind} data, {len(train_set)} training and {len(val_set)} validation scenes"
        + ("" if has_split else " (no split files: evaluating on the training scenes)")
    )
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.threads is not None:
        if args.threads < 1:
            raise Beep3dError("--threads must be at least 1")
        torch.set_num_threads(args.threads)
    from beep3d.training.trainer import Trainer

    if args.init is not None:
        _say(f"beep3d-train: starting from the weights of {args.init}")

    trainer = Trainer(
        config,
        train_set,
        val_set,
        class_set,
        args.out,
        device=device,
        resume=args.resume,
        max_steps=args.max_steps,
        init_from=args.init,
        show_progress=not args.quiet,
    )
    try:
        result = trainer.run()
    finally:
        from beep3d.training.distributed import shutdown

        if getattr(trainer, "dist", None) is not None:
            shutdown(trainer.dist)
    _say(_summary(result))
    return 0


def _config_of(args: argparse.Namespace) -> TrainConfig:
    """The ``--config`` with the settings the command line overrides (epochs, workers, seed, val scenes)."""
    from dataclasses import replace

    from beep3d.training.config import load_config

    config = load_config(args.config)
    overrides = {}
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.num_workers is not None:
        overrides["num_workers"] = args.num_workers
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.val_scenes is not None:
        overrides["val_scenes"] = list(args.val_scenes)
    if overrides:
        config = replace(config, **overrides)
    return config


def _summary(result: TrainResult) -> str:
    """The line ``beep3d-train`` ends with: where the run stopped and its last evaluation's figures."""
    summary = (
        f"beep3d-train: stopped at step {result.step} (epoch {result.epoch}); run folder {result.run_dir}"
    )
    if result.last_eval and not result.last_eval.get("scenes"):
        summary += "; no evaluation figures (the validation scenes have no GT instances)"
    elif result.last_eval:
        figures = ", ".join(
            f"{k} {v:.3f}" for k, v in result.last_eval.items() if k in ("ap", "ap50", "ap25", "macc", "miou")
        )
        summary += f"; last evaluation: {figures}"
    return summary


def _say(text: str) -> None:
    """Print a progress line to stderr, once per run: by the first process under torchrun."""
    import os

    if int(os.environ.get("RANK", "0")) == 0:
        print(text, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
