"""The typed config schema: defaults, presets, overrides, and clear errors."""

import pytest
import yaml

from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.runtime.config import parse_override, resolve_config, save_config


def test_overrides_and_flags_take_precedence(tmp_path):
    user = tmp_path / "user.yaml"
    user.write_text(yaml.safe_dump({"optim": {"lr": 0.01}, "train": {"episodes": 10}}))
    config = resolve_config("protonet", str(user), {"train": {"episodes": 20}}, ["optim.lr=0.5", "task.way=7"])
    assert config.optim.lr == 0.5 and config.train.episodes == 20 and config.task.way == 7


def test_override_values_are_typed():
    assert parse_override("a.b=3") == {"a": {"b": 3}}
    assert parse_override("a=true") == {"a": True}
    assert parse_override("a=null") == {"a": None}
    assert parse_override("x.y=cnn4") == {"x": {"y": "cnn4"}}
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_override("novalue")


def test_unknown_key_names_the_closest_valid_key():
    with pytest.raises(ConfigError, match=r"unknown setting 'train\.episods'; did you mean 'train\.episodes'"):
        resolve_config("protonet", overrides=["train.episods=3"])
    with pytest.raises(ConfigError, match="unknown setting 'optimm'"):
        resolve_config("protonet", overrides=["optimm.lr=3"])


def test_wrong_type_names_key_and_type():
    with pytest.raises(ConfigError, match=r"setting train\.episodes: expected int, got 'many'"):
        resolve_config("protonet", overrides=["train.episodes=many"])
    with pytest.raises(ConfigError, match=r"setting data\.augment: expected bool"):
        resolve_config("protonet", overrides=["data.augment=3"])


@pytest.mark.parametrize("override", ["train.episodes=0", "task.way=-1", "eval.shot=0", "train.meta_batch=0"])
def test_impossible_sizes_are_refused(override):
    with pytest.raises(ConfigError, match="must be >= 1"):
        resolve_config("protonet", overrides=[override])


def test_unknown_method_option_is_refused():
    with pytest.raises(ConfigError, match="unknown setting 'method.no_such_option'"):
        resolve_config("protonet", overrides=["method.no_such_option=1"])


def test_saved_config_repeats_the_run(tmp_path):
    config = resolve_config(
        "protonet", overrides=["train.episodes=11", "model.nsl=static-dns", "data.dataset=synthetic"]
    )
    path = tmp_path / "config.yaml"
    save_config(config, path)
    again = resolve_config(None, str(path))
    assert again == config


def test_a_setting_added_after_a_run_was_made_counts_as_its_default(tmp_path):
    """Resume and leaderboard reuse compare a saved config through the schema: a key it lacks is the default."""
    from fewshot_nsl.runtime.config import changed_settings

    config = resolve_config("dynamic", overrides=["data.dataset=synthetic"])
    saved = tmp_path / "config.yaml"
    save_config(config, saved)
    old = yaml.safe_load(saved.read_text())
    del old["model"]["predictor_gamma"]  # a run made before the setting existed
    saved.write_text(yaml.safe_dump(old))
    assert changed_settings(saved, config) == []
    assert changed_settings(saved, resolve_config("dynamic", overrides=["data.dataset=synthetic",
                                                                        "model.predictor_gamma=0.1"])) \
        == [("model.predictor_gamma", 1.0, 0.1)]
    assert changed_settings(saved, config, frozenset({"train.episodes"})) == []
