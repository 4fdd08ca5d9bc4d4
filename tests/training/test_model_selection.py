"""Which evaluation keeps ``checkpoints/best.safetensors``: ties on the chosen figure are broken.

A CPU-sized student scores AP 0.0 at every evaluation; the best checkpoint must then follow the
teacher's overlap accuracy (mACC), not stay at the first evaluation.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.training.test_training_trainer import fake_config, run
from tests.training_fakes import write_rooms


def scripted_figures(monkeypatch: pytest.MonkeyPatch, maccs: list[float]) -> None:
    """Make every evaluation report AP 0 and the next of ``maccs`` as the teacher's mACC."""
    import beep3d.training.evaluation as evaluation

    queue = list(maccs)

    def fake_evaluate(*_args: object, **_kwargs: object) -> dict[str, float]:
        macc = queue.pop(0)
        return {"ap": 0.0, "ap50": 0.0, "ap25": 0.0, "macc": macc, "macc_pooled": macc, "miou": 0.5,
                "scenes": 1}  # fmt: skip

    monkeypatch.setattr(evaluation, "evaluate", fake_evaluate)


def eval_steps(out: Path) -> list[int]:
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [r["step"] for r in records if r["kind"] == "eval"]


def test_ties_on_ap_are_broken_by_the_teachers_macc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from beep3d.training.checkpoint import read_checkpoint

    scripted_figures(monkeypatch, [0.709, 0.777, 0.760])
    write_rooms(tmp_path / "data", 2)
    out = tmp_path / "run"
    run(fake_config(eval_every=1, batch_size=2), tmp_path / "data", out)  # default select_by: auto (AP)
    steps = eval_steps(out)
    assert len(steps) == 3
    best = read_checkpoint(out / "checkpoints" / "best.safetensors")
    assert best.step == steps[1], "the evaluation with the highest mACC among equal APs"


def test_the_tie_break_survives_a_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from beep3d.training.checkpoint import read_checkpoint

    scripted_figures(monkeypatch, [0.777, 0.709, 0.760])
    write_rooms(tmp_path / "data", 2)
    out = tmp_path / "run"
    config = fake_config(eval_every=1, batch_size=2, checkpoint_every_steps=1)
    run(config, tmp_path / "data", out, max_steps=1)
    run(config, tmp_path / "data", out, resume=True)
    best = read_checkpoint(out / "checkpoints" / "best.safetensors")
    assert best.step == 1, "later evaluations with a lower mACC (AP tied at 0) do not replace it"


def test_selection_key_orders_by_the_figure_then_the_teachers_figures() -> None:
    from beep3d.training.evaluation import selection_key

    nan = math.nan
    low = {"ap": 0.0, "macc": 0.70, "macc_pooled": 0.71, "miou": 0.9}
    high = {"ap": 0.0, "macc": 0.78, "macc_pooled": 0.60, "miou": 0.1}
    assert selection_key(high, "auto") > selection_key(low, "auto")
    assert selection_key(high, "ap") > selection_key(low, "ap")
    assert selection_key({**low, "ap": 0.01}, "auto") > selection_key(high, "auto"), "AP decides first"
    assert selection_key(low, "macc_pooled") > selection_key(high, "macc_pooled")
    assert selection_key({**high, "ap": nan}, "auto") > selection_key({**low, "ap": nan}, "auto")
    assert selection_key({"ap": nan, "macc": nan, "miou": nan}, "auto")[0] == -math.inf
