"""Issue 13 item 4: the paper presets and the `paper` budget, from the audit of the recipes."""

from __future__ import annotations

from pathlib import Path

import pytest

from fewshot_nsl.experiments.budgets import BUDGETS, ROWS
from fewshot_nsl.experiments.leaderboard import row_config
from fewshot_nsl.runtime.config import preset_path, resolve_config

PAPER = {row.key: row_config(row, BUDGETS["paper"], "mini-imagenet", None, "cpu", False) for row in ROWS}


def test_protonet_head_rows_train_with_protonets_way_in_the_paper_budget():
    protonet_head = [key for key, c in PAPER.items() if c.method_name in ("protonet", "static", "dynamic")]
    assert sorted(protonet_head) == ["dynamic-cnn4", "dynamic-cnn9", "protonet", "static"]
    assert {PAPER[key].task.way for key in protonet_head} == {20}  # Snell et al.
    assert {(PAPER[k].task.shot, PAPER[k].task.query, PAPER[k].train.episodes) for k in protonet_head} == {
        (5, 15, 40000)}
    # the presets themselves keep their way (NSN 5, ProtoNet 20); MAML-style heads train with the test way
    assert (resolve_config("static").task.way, resolve_config("dynamic").task.way) == (5, 5)
    assert PAPER["maml"].task.way == PAPER["metastatic"].task.way == PAPER["maml"].eval.way == 5


def test_paper_budget_takes_gamma_and_inner_step_from_the_equal_5k_evidence():
    # gamma 0.1 from equal-5k-b (the preset keeps the released 1.0); the inner step stays 0.01 (equal-5k-e)
    assert PAPER["dynamic-cnn4"].model.predictor_gamma == PAPER["dynamic-cnn9"].model.predictor_gamma == 0.1
    assert resolve_config("dynamic").model.predictor_gamma == 1.0
    assert PAPER["metastatic"].method_options().inner_lr == 0.01


def test_maml_uses_finn_et_al_width_and_nothing_else_changes_width():
    assert PAPER["maml"].model.width == 32
    assert all(c.model.width == 64 for key, c in PAPER.items() if key != "maml")


def test_relationnet_row_keeps_inductive_bn():
    assert PAPER["relationnet"].method_options().transductive_bn is False


@pytest.mark.parametrize("name", sorted(p.stem for p in preset_path("protonet").parent.glob("*.yaml")))
def test_every_preset_says_what_the_augmentation_does(name):
    text = Path(preset_path(name)).read_text()
    assert "fewshot_nsl/data/transforms.py" in text and "reflect-padded" in text
    assert "not\n# CloserLook's train_aug" in text or "not CloserLook's train_aug" in text
