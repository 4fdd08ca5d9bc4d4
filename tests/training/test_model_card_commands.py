"""Every ``beep3d-train`` command in the model card is complete: the command line accepts it as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from beep3d.training.cli import build_parser

MODEL_CARD = Path(__file__).resolve().parents[2] / "assets" / "checkpoints" / "MODEL_CARD.md"


def model_card_commands() -> list[str]:
    """The ``beep3d-train`` commands of the model card: in code blocks and in inline code."""
    text = MODEL_CARD.read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```(?:bash)?\n(.*?)```", text, flags=re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        commands += [line.split(" #")[0] for line in joined.splitlines() if line.startswith("beep3d-train")]
    outside_blocks = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    commands += [" ".join(span.split()) for span in re.findall(r"`(beep3d-train[^`]*)`", outside_blocks)]
    return commands


def test_the_model_card_has_its_commands() -> None:
    assert len(model_card_commands()) >= 2  # how it was made, and the refit under Limits


@pytest.mark.parametrize("command", model_card_commands())
def test_each_command_parses_with_every_required_option(command: str) -> None:
    words = shlex.split(re.sub(r"<[^>]*>", "PLACEHOLDER", command))
    assert words[0] == "beep3d-train"
    try:
        args = build_parser().parse_args(words[1:])
    except SystemExit as exc:  # argparse: a missing required option or an unknown one
        pytest.fail(f"beep3d-train refuses the model card's command {command!r} (exit {exc.code})")
    assert args.out and args.data and args.config
