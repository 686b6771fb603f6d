"""``--backbone cnn9`` works with every method, NS variants included (built from each method's preset)."""

from __future__ import annotations

import pytest
import torch
from method_helpers import synthetic_episode

from fewshot_nsl.runtime.build import build_method
from fewshot_nsl.runtime.config import resolve_config

METHODS = ["protonet", "relationnet", "maml", "matchingnet", "finetune", "nn", "static", "metastatic", "dynamic"]
SHAPE = (3, 16, 16)  # CNN-9: 16 -> 8 (stem) -> 4 -> 2 -> 1


@pytest.mark.parametrize("name", METHODS)
def test_every_method_runs_on_cnn9(name):
    overrides = ["model.backbone=cnn9", "task.way=3", "method.fce=false" if name == "matchingnet" else None,
                 "method.inner_steps=1" if name in ("maml", "metastatic") else None,
                 "method.test_inner_steps=1" if name in ("maml", "metastatic") else None,
                 "method.epochs=2" if name == "finetune" else None]
    config = resolve_config(name, overrides=[o for o in overrides if o])
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
