"""Learning curves are free of side effects: validating often leaves training bit-identical, and each
validation record carries the run's wall clock."""

import json

import pytest
import torch

from fewshot_nsl.experiments.train_run import train
from fewshot_nsl.runtime.checkpoint import load_checkpoint
from fewshot_nsl.runtime.config import resolve_config

COMMON = ["data.dataset=synthetic", "train.episodes=8", "task.way=5", "task.shot=2", "task.query=3",
          "eval.shot=2", "eval.query=3", "train.val_episodes=3", "train.log_every=2", "train.threads=1",
          "train.progress=false", "data.augment=true", "train.seed=5"]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["protonet", "dynamic", "maml"])
def test_validation_does_not_change_the_trained_weights(method, tmp_path):
    torch.set_num_threads(1)
    extra = ["method.inner_steps=1", "method.test_inner_steps=1"] if method == "maml" else []
    often = train(resolve_config(method, overrides=[*COMMON, *extra, "train.val_every=2"]), tmp_path / "often")
    never = train(resolve_config(method, overrides=[*COMMON, *extra, "train.val_every=1000000"]), tmp_path / "end")
    a, b = (load_checkpoint(d / "checkpoints" / "last.pt")["model"] for d in (often, never))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    records = [json.loads(line) for line in (often / "metrics.jsonl").read_text().splitlines()]
    val = [r for r in records if "val_accuracy" in r]
    assert [r["episode"] for r in val] == [2, 4, 6, 8]
    assert all(r["wall_s"] >= 0 for r in val) and [r["wall_s"] for r in val] == sorted(r["wall_s"] for r in val)
