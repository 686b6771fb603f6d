"""Method presets (fewshot_nsl/configs/<method>.yaml): one per method, each a delta from the schema defaults that
resolves to its recipe (pinned by tests/runtime/golden/<method>.yaml)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from fewshot_nsl.methods import get_method, method_names
from fewshot_nsl.runtime.build import build_method
from fewshot_nsl.runtime.config import (
    ModelConfig,
    OptimConfig,
    TaskConfig,
    flatten,
    preset_path,
    read_yaml,
    resolve_config,
    save_config,
)
from fewshot_nsl.runtime.yaml_io import dump_yaml

GOLDEN = Path(__file__).resolve().parent.parent / "runtime" / "golden"

#: every registered method that has a preset (a preset is optional: a new method is one file)
METHODS = [name for name in method_names() if preset_path(name).is_file()]


def test_presets_and_golden_configs_match_the_registry():
    """Each preset belongs to a registered method and is pinned by a golden file, and each golden file by a
    preset; the paper's nine methods all have one."""
    presets = {p.stem for p in preset_path("protonet").parent.glob("*.yaml")}
    assert presets <= set(method_names()), presets - set(method_names())
    assert {p.stem for p in GOLDEN.glob("*.yaml")} == presets == set(METHODS)
    assert {"protonet", "relationnet", "maml", "matchingnet", "finetune", "nn", "static", "metastatic",
            "dynamic"} <= presets


@pytest.mark.parametrize("name", METHODS)
def test_preset_resolves_to_its_golden_config(name):
    """A preset states only what differs from the schema defaults; what it resolves to is pinned, key by key and
    in the order saved in RUN_DIR/config.yaml, by tests/runtime/golden/<method>.yaml (written from the presets
    as they were when each restated every setting)."""
    config = resolve_config(name)
    assert config.method_name == name
    # few-shot presets train on Mini-ImageNet; a classification preset (the CIFAR recipe, NSL_SPEC §6) on CIFAR-10
    few_shot = get_method(name).evaluation_kind == "episodes"
    assert config.data.dataset == ("mini-imagenet" if few_shot else "cifar10")
    assert (config.eval.way, config.eval.shot, config.eval.query, config.eval.episodes) == (5, 5, 15, 600)
    golden = GOLDEN / f"{name}.yaml"
    assert dump_yaml(config.to_dict()) == golden.read_text()
    assert config.to_dict() == read_yaml(golden)  # same values and types (5e-4 a float, not a string)


def test_a_saved_run_config_holds_every_setting(tmp_path):
    config = resolve_config("maml")
    save_config(config, tmp_path / "config.yaml")
    saved = read_yaml(tmp_path / "config.yaml")
    assert set(flatten(saved)) == set(flatten(config.to_dict()))
    for section, schema in (("task", TaskConfig), ("model", ModelConfig), ("optim", OptimConfig)):
        assert set(saved[section]) == {f.name for f in dataclasses.fields(schema)}, section
    assert set(saved["method"]) - {"name"} == {f.name for f in dataclasses.fields(get_method("maml").Options)}


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
