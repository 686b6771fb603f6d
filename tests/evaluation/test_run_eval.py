"""evaluate_run / load_model on a hand-made run directory (synthetic data, no trainer needed)."""

import numpy as np
import pytest
import torch

import fewshot_nsl
from fewshot_nsl.data import load_split
from fewshot_nsl.data.transforms import EpisodeTransform
from fewshot_nsl.episodes.files import SplitLabels, episode_file_name, make_episode_file, read_episode_file
from fewshot_nsl.episodes.sampler import EpisodeSampler
from fewshot_nsl.core.errors import CheckpointError, ConfigError
from fewshot_nsl.evaluation.evaluator import evaluate
from fewshot_nsl.evaluation.result import load_result
from fewshot_nsl.evaluation.run_eval import evaluate_run
from fewshot_nsl.runtime.build import build_method
from fewshot_nsl.runtime.checkpoint import save_checkpoint
from fewshot_nsl.runtime.config import resolve_config, save_config

SETTINGS = ["data.dataset=synthetic", "eval.split=val", "eval.episodes=8", "eval.query=5", "train.progress=false"]


def make_run(folder, overrides=()):
    config = resolve_config("protonet", overrides=SETTINGS + list(overrides))
    torch.manual_seed(0)
    method = build_method(config, (3, 32, 32), 64)
    state = {"model": method.state_dict(), "config": config.to_dict(), "image_shape": [3, 32, 32],
             "num_base_classes": 64, "mean": [128.0] * 3, "std": [64.0] * 3}
    save_checkpoint(state, folder / "checkpoints" / "best.pt")
    save_config(config, folder / "config.yaml")
    return method.eval()


def test_evaluate_run_matches_a_direct_evaluation_and_saves(tmp_path):
    method = make_run(tmp_path)
    result = evaluate_run(tmp_path, device="cpu")
    images = load_split("synthetic", "val")
    sampler = EpisodeSampler(images.labels, 5, 5, 5, seed=0)
    transform = EpisodeTransform(images.mean, images.std, 32)
    assert result.protocol["precision"] in ("fp32", "bf16")  # the run's train.precision (auto), resolved
    direct = evaluate(method, images, [sampler.episode(i) for i in range(8)], transform, "cpu", progress=False,
                      precision=result.protocol["precision"])
    np.testing.assert_array_equal(result.accuracies, direct.accuracies)
    saved = load_result(tmp_path / "eval" / "val_5way5shot.json")
    np.testing.assert_array_equal(saved.accuracies, result.accuracies)
    p = saved.protocol
    assert p["method"] == "protonet" and p["seed"] == 0 and p["episodes_file"] is None
    assert p["parameters"] == sum(t.numel() for t in method.parameters())


def test_eval_cli_prints_percent_and_reports_fractions_in_json(tmp_path, capsys):
    import argparse
    import json

    from fewshot_nsl.cli import evaluate as eval_cli

    make_run(tmp_path)
    parser = argparse.ArgumentParser()
    eval_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["eval", str(tmp_path), "--device", "cpu", "--json"])
    assert args.func(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    saved = load_result(tmp_path / "eval" / "val_5way5shot.json")
    assert 0.0 <= saved.mean <= 1.0 and saved.accuracies.max() <= 1.0  # fractions inside and on disk
    assert f": {100 * saved.mean:.2f} ± {100 * saved.ci95:.2f} % " in lines[0]  # percent when printed
    payload = json.loads(lines[-1])
    assert payload["accuracy"] == saved.mean and payload["ci95"] == saved.ci95


def test_evaluate_run_uses_an_episodes_file_and_checks_it(tmp_path):
    make_run(tmp_path)
    labels = SplitLabels.read("synthetic", "val")
    path = make_episode_file(labels, 5, 1, 5, 6, 3, tmp_path / "e.json.gz")
    result = evaluate_run(tmp_path, episodes_file=str(path), device="cpu")
    assert (result.shot, result.episodes) == (1, 6)
    assert result.protocol["episodes_file_sha256"] == read_episode_file(path).sha256
    with pytest.raises(ConfigError, match="--shot 5 contradicts episodes file"):
        evaluate_run(tmp_path, episodes_file=str(path), shot=5, device="cpu")


def test_standard_file_is_picked_up(tmp_path, monkeypatch):
    make_run(tmp_path / "run")
    labels = SplitLabels.read("synthetic", "val")
    name = episode_file_name("synthetic", "val", 5, 5, 5, 8, 0)
    make_episode_file(labels, 5, 5, 5, 8, 0, tmp_path / "std" / name)
    monkeypatch.setenv("FEWSHOT_NSL_EPISODES", str(tmp_path / "std"))
    result = evaluate_run(tmp_path / "run", device="cpu", save=False)
    assert result.protocol["episodes_file"] == str(tmp_path / "std" / name)


def test_load_model_api(tmp_path):
    method = make_run(tmp_path)
    model = fewshot_nsl.load_model(tmp_path, device="cpu")
    images = load_split("synthetic", "val").images[:30]
    x = model.transform(images)
    assert x.shape == (30, 3, 32, 32)
    labels = torch.arange(5).repeat_interleave(2)
    logits = model.predict(x[:10], labels, x[10:])
    assert logits.shape == (20, 5)
    torch.testing.assert_close(logits, method.predict(x[:10], labels, x[10:], 5).detach())
    assert model.embed(x).shape == (30, method.backbone.feature_dim((3, 32, 32)))


def test_checkpoint_that_does_not_fit_is_refused(tmp_path):
    make_run(tmp_path)
    path = tmp_path / "checkpoints" / "best.pt"
    state = torch.load(path, weights_only=False)
    state["config"]["model"]["backbone"] = "cnn9"  # the weights are of a CNN-4
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"does not fit method 'protonet' with backbone 'cnn9' \(nsl=none\)"):
        fewshot_nsl.load_model(tmp_path, device="cpu")
    state["config"]["model"]["backbone"] = "cnn4"
    state["image_shape"] = [1, 32, 32]  # grey input: the first conv's weight has the wrong shape
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="size mismatch for backbone"):
        fewshot_nsl.load_model(tmp_path, device="cpu")
    with pytest.raises(CheckpointError, match="does not exist"):
        fewshot_nsl.load_model(tmp_path / "nowhere", device="cpu")
