"""The typed config schema: defaults, presets, overrides, and clear errors."""

import dataclasses
import re

import pytest
import yaml

from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.runtime.config import parse_override, read_yaml, resolve_config, save_config


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


@pytest.mark.parametrize("text,value", [("1e-4", 1e-4), ("5e-4", 5e-4), ("1E3", 1000.0), ("-2.5e-3", -2.5e-3)])
def test_exponent_numbers_are_floats_in_set_and_in_yaml_files(tmp_path, text, value):
    """PyYAML's safe_load reads 5e-4 as a string (YAML 1.1 wants a dot); the project's loader reads a number."""
    assert parse_override(f"optim.lr={text}") == {"optim": {"lr": value}}
    user = tmp_path / "user.yaml"
    user.write_text(f"optim:\n  weight_decay: {text}\n")
    assert read_yaml(user) == {"optim": {"weight_decay": value}}
    config = resolve_config("protonet", str(user), overrides=[f"optim.lr={text.lstrip('-')}"])
    assert config.optim.weight_decay == value and config.optim.lr == abs(value)
    assert isinstance(config.optim.weight_decay, float)


@pytest.mark.parametrize("override,allowed", [
    ("model.nsl=dynamic", "none, static-dns, static-uns, dynamic-dns, dynamic-uns"),
    ("model.param=both", "disjoint, shared"),
    ("model.dns_init=zeros", "identity, released"),
    ("optim.optimizer=adamw", "adam, sgd"),
])
def test_closed_choices_are_refused_when_the_config_is_read(override, allowed):
    key, _, value = override.partition("=")
    with pytest.raises(ConfigError, match=rf"^setting {re.escape(key)}: expected one of {allowed}, got '{value}'$"):
        resolve_config("protonet", overrides=[override])


def test_ns_rules_are_refused_when_the_config_is_read():
    with pytest.raises(ConfigError, match="predictor_gamma=0.1 scales the output BN"):
        resolve_config("protonet", overrides=["model.predictor_gamma=0.1"])
    with pytest.raises(ConfigError, match="learn_shape needs an NS variant"):
        resolve_config("protonet", overrides=["model.learn_shape=true"])
    with pytest.raises(ConfigError, match="train.device must be auto, cpu or cuda"):
        resolve_config("protonet", overrides=["train.device=tpu"])
    assert resolve_config("protonet", overrides=["train.device=cuda:1"]).train.device == "cuda:1"


def test_model_config_is_backbone_plus_one_ns_options():
    from fewshot_nsl.layers.options import NSOptions

    model = resolve_config("dynamic", overrides=["model.predictor_gamma=0.5"]).model
    assert model.ns == NSOptions(nsl="dynamic-dns", predictor_gamma=0.5) and type(model.ns) is NSOptions
    assert [f.name for f in dataclasses.fields(model)][0] == "backbone"  # saved config.yaml keeps its order
