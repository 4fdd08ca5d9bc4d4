"""A run folder's records: ``metrics.jsonl`` (one JSON record per line) and ``training_curves.png``.

A record is a dict with ``kind`` ("train": one logged step, with ``lr`` and ``loss/<part>``; "eval":
one evaluation, with its figures), ``step`` and ``epoch``. Non-finite floats are stored as ``null``.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

from beep3d.io.atomic import write_text_atomic, write_with_atomic

METRICS_FILE = "metrics.jsonl"
CURVES_FILE = "training_curves.png"

#: The evaluation figures drawn on the curves' right panel, in the legend's order.
CURVE_FIGURES = ("ap", "ap50", "ap25", "macc", "miou")


def clean_value(value: Any) -> Any:
    """``value``, with a non-finite float (NaN, +-inf) replaced by None (JSON's null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_records(path: Path, up_to_step: int) -> list[dict[str, Any]]:
    """The records of ``path`` (a ``metrics.jsonl``) of steps up to ``up_to_step``, in file order.

    A line that is no JSON (cut by a kill while it was written) is skipped; the records of later
    steps are dropped (a resumed run writes them again).
    """
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a kill
        if int(record.get("step", 0)) <= up_to_step:
            records.append(record)
    return records


def write_records(path: Path, records: list[dict[str, Any]]) -> None:
    """Write ``records`` to ``path`` as JSON lines, atomically (a reader never sees half a file)."""
    text = "".join(json.dumps(r) + "\n" for r in records)
    write_text_atomic(path, text)


def add_to_tensorboard(writer: Any, record: dict[str, Any]) -> None:
    """Add the finite numbers of ``record`` to TensorBoard as ``train/<key>`` or ``eval/<key>`` at its step."""
    prefix = "train" if record["kind"] == "train" else "eval"
    for key, value in record.items():
        if key in ("kind", "step", "epoch") or not isinstance(value, int | float):
            continue
        if math.isfinite(value):
            writer.add_scalar(f"{prefix}/{key}", value, record["step"])
    writer.flush()


def plot_curves(records: list[dict[str, Any]], path: Path) -> None:
    """Draw the training losses and the evaluation figures over steps into the PNG ``path``.

    Parameters
    ----------
    records
        The run's records (see the module docstring); nothing is drawn without any.
    path
        The PNG to write (atomically), normally ``run_dir / CURVES_FILE``.
    """
    if not records:
        return
    with warnings.catch_warnings():  # e.g. "no artists with labels" before the first evaluation
        warnings.simplefilter("ignore")
        _draw_curves(records, path)


def _draw_curves(records: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [r for r in records if r["kind"] == "train"]
    evals = [r for r in records if r["kind"] == "eval"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    loss_keys = sorted({k for r in train for k in r if k.startswith("loss/")})
    for key in loss_keys:
        points = [(r["step"], r[key]) for r in train if r.get(key) is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            axes[0].plot(xs, ys, label=key[5:], linewidth=2.0 if key == "loss/total" else 1.0)
    axes[0].set_xlabel("step")
    axes[0].set_title("training losses")
    axes[0].legend(fontsize=7)
    for key in CURVE_FIGURES:
        points = [(r["step"], r[key]) for r in evals if r.get(key) is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            axes[1].plot(xs, ys, marker="o", label=key)
    axes[1].set_xlabel("step")
    axes[1].set_title("evaluation")
    axes[1].set_ylim(0, 1)
    if evals:
        axes[1].legend(fontsize=7)
    fig.tight_layout()
    write_with_atomic(path, lambda p: fig.savefig(p, format="png", dpi=90))
    plt.close(fig)
