"""Training configs: the shipped files load, carry the paper's values, and bad files say what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from beep3d.errors import Beep3dError
from beep3d.training.config import TrainConfig, available_configs, dump_config, load_config


def test_shipped_configs_are_scannet_s3dis_and_small() -> None:
    assert {"scannet", "s3dis", "small"} <= set(available_configs())


def test_scannet_config_is_the_papers_setting() -> None:
    config = load_config("scannet")
    assert (config.epochs, config.batch_size, config.lr, config.weight_decay) == (512, 4, 1e-4, 0.05)
    m = config.model
    assert (m.w_bce, m.w_dice, m.w_cls, m.w_q, m.w_f) == (1.0, 1.0, 0.5, 0.5, 0.5)
    assert (m.num_queries, m.num_layers, m.d_model, m.voxel_size, m.ema_alpha) == (400, 6, 256, 0.02, 0.99)
    assert config.dataset == "scannet"


def test_s3dis_config_has_the_papers_loss_weights_and_13_classes() -> None:
    config = load_config("s3dis")
    m = config.model
    assert (m.w_bce, m.w_dice, m.w_cls, m.w_q, m.w_f) == (5.0, 1.0, 2.0, 2.0, 2.0)
    assert m.num_classes == 13 and config.class_set == "s3dis13" and config.epochs == 512


def test_small_s3dis_config_is_the_small_run_with_the_papers_s3dis_classes_and_weights() -> None:
    """The CPU run for S3DIS: nothing but the class set, the data kind and the S3DIS loss weights
    differs from ``small`` (a change to one that forgets the other fails here)."""
    from dataclasses import replace

    small, s3dis, ours = load_config("small"), load_config("s3dis"), load_config("small_s3dis")
    weights = ("num_classes", "w_bce", "w_dice", "w_cls", "w_q", "w_f")
    model = replace(small.model, **{key: getattr(s3dis.model, key) for key in weights})
    assert ours == replace(small, dataset="s3dis", class_set="s3dis13", model=model)


def test_small_config_is_a_small_network_with_a_crop() -> None:
    config = load_config("small")
    assert 64 <= config.model.d_model <= 128
    assert config.model.num_layers <= 3 and config.model.num_queries <= 64
    assert 30_000 <= config.crop_points <= 50_000


def test_config_files_comment_every_changed_value_with_the_papers_value() -> None:
    text = (Path(__file__).resolve().parents[2] / "training" / "configs" / "small.yaml").read_text()
    for line in text.splitlines():
        if ":" in line and not line.lstrip().startswith("#") and line.split(":", 1)[1].split("#")[0].strip():
            key = line.split(":", 1)[0].strip()
            if key not in ("dataset", "class_set"):
                assert "#" in line, f"small.yaml: {key} changes a default without saying the paper's value"


def test_a_yaml_path_loads_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("epochs: 3\nmodel:\n  d_model: 32\n  num_heads: 4\n")
    config = load_config(path)
    assert config.epochs == 3 and config.model.d_model == 32
    again = tmp_path / "again.yaml"
    again.write_text(dump_config(config))
    assert load_config(again) == config


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("epochz: 3\n", "epochz"),
        ("model:\n  d_modle: 64\n", "d_modle"),
        ("epochs: many\n", "epochs"),
        ("dataset: kitti\n", "dataset"),
        ("select_by: loss\n", "select_by"),
        ("epochs: [3\n", "YAML"),
    ],
)
def test_bad_config_raises_naming_the_key(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(Beep3dError, match=named):
        load_config(path)


def test_unknown_config_name_lists_the_shipped_ones() -> None:
    with pytest.raises(Beep3dError, match="small"):
        load_config("no-such-config")


def test_to_dict_from_dict_round_trip() -> None:
    config = load_config("small")
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_val_scenes_must_be_a_list_of_patterns() -> None:
    from beep3d.training.config import TrainConfig

    assert TrainConfig.from_dict({"val_scenes": ["scene0002_*"]}).val_scenes == ["scene0002_*"]
    with pytest.raises(Beep3dError, match="val_scenes must be a list"):
        TrainConfig.from_dict({"val_scenes": "scene0002_*"})


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("lr: .nan", "lr must be a finite number, got nan"),
        ("epochs: .inf", "epochs must be a whole number"),
        ("weight_decay: -1.0", "weight_decay must be 0 or more"),
        ("lr_div_factor: 0.0", "lr_div_factor must be a positive number"),
        ("seed: -1", "seed must be in 0 .. 2**32 - 1"),
        ("crop_points: 1", "crop_points must be at least 1000"),
        ("membership_share: -1.0", "membership_share must be in (0, 1]"),
        ("grad_clip: .nan", "grad_clip must be a finite number"),
        ("model: {num_heads: 0}", "num_heads must be positive"),
        ("model: {d_model: 0}", "d_model must be positive"),
        ("model: {num_queries: 8.5}", "num_queries must be a whole number"),
        ("model: {backbone_channels: abc}", "backbone_channels must be a list of whole numbers"),
        ("model: {dropout: 2.0}", "dropout must be in [0, 0.999]"),
        ("model: {ema_alpha: -1.0}", "ema_alpha must be in [0, 1]"),
        ("model: {ema_alpha: .nan}", "ema_alpha must be a finite number"),
        ("model: {nested_box_prior: 'no'}", "nested_box_prior must be true or false, got 'no'"),
        ("model: {pseudo_mask_warmup_steps: 1.5}", "pseudo_mask_warmup_steps must be a whole number"),
        ("1: 2\nfoo: 3", "unknown key(s) ['1', 'foo']"),
    ],
)
def test_a_value_no_run_can_use_is_refused_naming_the_file_and_key(
    tmp_path: Path, text: str, said: str
) -> None:
    """NaN passes ``x <= 0``; "no" is a true string; -1 as the EMA decay extrapolates the teacher:
    each was accepted, or ended in a traceback mid-run, before these checks."""
    path = tmp_path / "bad.yaml"
    path.write_text(text + "\n")
    with pytest.raises(Beep3dError, match=rf"^{re.escape(str(path))}: .*{re.escape(said)}"):
        load_config(path)


def test_a_config_that_is_not_utf8_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"\xff\xfeepochs: 1\n")
    with pytest.raises(Beep3dError, match="not a text file in UTF-8"):
        load_config(path)
