"""Method presets (fewshot_nsl/configs/<method>.yaml): one per method, each resolving and stating its recipe."""

from __future__ import annotations

import dataclasses

import pytest

from fewshot_nsl.methods import get_method, method_names
from fewshot_nsl.runtime.build import build_method
from fewshot_nsl.runtime.config import (
    ModelConfig,
    OptimConfig,
    TaskConfig,
    preset_path,
    read_yaml,
    resolve_config,
)

METHODS = ["protonet", "relationnet", "maml", "matchingnet", "finetune", "nn", "static", "metastatic", "dynamic"]


def test_every_registered_method_has_a_preset():
    assert sorted(method_names()) == sorted(METHODS)
    for name in METHODS:
        assert preset_path(name).is_file(), name


@pytest.mark.parametrize("name", METHODS)
def test_preset_resolves_and_states_every_recipe_setting(name):
    config = resolve_config(name)
    assert config.method_name == name
    assert config.data.dataset == "mini-imagenet"
    assert (config.eval.way, config.eval.shot, config.eval.query, config.eval.episodes) == (5, 5, 15, 600)
    raw = read_yaml(preset_path(name))
    options = get_method(name).Options
    assert set(raw["method"]) - {"name"} == {f.name for f in dataclasses.fields(options)}
    for section, schema in (("task", TaskConfig), ("model", ModelConfig), ("optim", OptimConfig)):
        assert set(raw[section]) == {f.name for f in dataclasses.fields(schema)}, section
    for key in ("episodes", "meta_batch", "seed", "val_every", "val_episodes"):
        assert key in raw["train"], key


def test_preset_recipes():
    assert resolve_config("protonet").task.way == 20
    assert resolve_config("static").model.nsl == "static-uns"
    dynamic = resolve_config("dynamic").model
    assert (dynamic.nsl, dynamic.param) == ("dynamic-dns", "disjoint")
    for name in ("maml", "metastatic"):
        c = resolve_config(name)
        o = c.method_options()
        assert (o.inner_steps, o.test_inner_steps, o.inner_lr, o.first_order) == (5, 10, 0.01, True)
        assert (c.train.meta_batch, c.train.episodes) == (2, 120000)
        assert c.task.way == c.eval.way
    assert resolve_config("metastatic").model.nsl == "static-uns"
    assert resolve_config("matchingnet").method_options().fce is True
    assert resolve_config("finetune").method_options().epochs == 100
    assert resolve_config("relationnet").model.backbone == "cnn4-np"  # Sung et al.'s encoder


def test_cli_style_overrides_win_over_the_preset():
    config = resolve_config(
        "dynamic", overrides=["model.nsl=dynamic-uns", "data.dataset=omniglot", "method.name=dynamic"]
    )
    assert (config.model.nsl, config.data.dataset) == ("dynamic-uns", "omniglot")


@pytest.mark.parametrize("name", METHODS)
def test_preset_builds_its_method(name):
    config = resolve_config(name)
    method = build_method(config, (3, 32, 32), 64)
    assert type(method) is get_method(name)
