"""``--backbone cnn9`` works with every method, NS variants included (built from each method's preset)."""

from __future__ import annotations

import pytest
import torch
from method_cases import small_overrides
from method_helpers import synthetic_episode

from fewshot_nsl.methods import method_names
from fewshot_nsl.runtime.build import build_method
from fewshot_nsl.runtime.config import resolve_config

SHAPE = (3, 16, 16)  # CNN-9: 16 -> 8 (stem) -> 4 -> 2 -> 1


@pytest.mark.parametrize("name", method_names())
def test_every_method_runs_on_cnn9(name):
    # every int option of the preset (inner steps, epochs, ...) at 1 keeps each method quick on CNN-9
    config = resolve_config(name, overrides=["model.backbone=cnn9", "task.way=3", *small_overrides(name)])
    torch.manual_seed(0)
    method = build_method(config, SHAPE, 4)
    ep = synthetic_episode(way=3, shot=1, query=2, shape=SHAPE)
    method.train()
    if method.training_mode == "supervised":
        loss, _ = method((torch.randn(4, *SHAPE), torch.arange(4)))
    else:
        loss, _ = method(ep)
    loss.backward()
    assert torch.isfinite(loss)
    method.eval()
    with torch.set_grad_enabled(method.features_depend_on_episode):
        assert method.predict(ep.support, ep.support_labels, ep.query, 3).shape == (6, 3)
