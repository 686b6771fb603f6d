"""The evaluator: cached (embed each image once) and per-episode paths agree; results save, load and compare."""

import numpy as np
import pytest
import torch

from fewshot_nsl.backbones import build as build_backbone
from fewshot_nsl.data.base import ImageSet
from fewshot_nsl.episodes.sampler import EpisodeSampler
from fewshot_nsl.core.errors import DataError
from fewshot_nsl.evaluation.evaluator import evaluate
from fewshot_nsl.evaluation.result import compare_results, load_result, save_result
from fewshot_nsl.core.stats import mean_ci95
from fewshot_nsl.methods.protonet import ProtoNet


def toy_set(seed=0, classes=6, per_class=12, size=16, noise=250):
    rng = np.random.default_rng(seed)
    centres = rng.integers(0, 255, size=(classes, 1, size, size, 3))
    jitter = rng.integers(-noise, noise + 1, size=(classes, per_class, size, size, 3))
    images = np.clip(centres + jitter, 0, 255).astype(np.uint8).reshape(-1, size, size, 3)
    labels = np.repeat(np.arange(classes), per_class)
    return ImageSet(images=images, labels=labels, class_names=[f"c{i}" for i in range(classes)],
                    image_names=[f"i{i}.png" for i in range(len(labels))], dataset="toy", split="test")


def transform(images, rng=None):
    x = torch.from_numpy(np.asarray(images)).float().permute(0, 3, 1, 2)
    return (x - 127.5) / 127.5


class CountingProtoNet(ProtoNet):
    """ProtoNet that counts how many images go through the backbone."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.embedded = 0

    def embed(self, images):
        self.embedded += len(images)
        return super().embed(images)


def make_method():
    torch.manual_seed(0)
    method = CountingProtoNet(build_backbone("cnn4", in_channels=3), (3, 16, 16), 10)
    with torch.no_grad():  # non-trivial BN statistics, so eval mode matters
        for m in method.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return method


def episodes(images, n=12, seed=3, way=3, shot=2, query=4):
    sampler = EpisodeSampler(images.labels, way, shot, query, seed=seed)
    return [sampler.episode(i) for i in range(n)]


def test_cached_and_per_episode_paths_agree():
    images = toy_set()
    eps = episodes(images)
    method = make_method()
    method.train()
    cached = evaluate(method, images, eps, transform, "cpu", batch_size=7, progress=False, cache_features=True)
    n_distinct = len(np.unique(np.concatenate([np.concatenate([e.support, e.query]) for e in eps])))
    assert method.embedded == n_distinct  # every distinct image once, not once per episode
    assert method.training  # mode restored
    method.embedded = 0
    direct = evaluate(method, images, eps, transform, "cpu", progress=False, cache_features=False)
    assert method.embedded == sum(len(e.support) + len(e.query) for e in eps)
    np.testing.assert_array_equal(cached.accuracies, direct.accuracies)
    assert cached.accuracies.std() > 0  # a test that could fail: the episodes are not all the same
    assert cached.protocol["episodes_sha256"] == direct.protocol["episodes_sha256"]


def test_result_statistics_and_protocol():
    images = toy_set()
    eps = episodes(images)
    result = evaluate(make_method(), images, eps, transform, "cpu", progress=False, protocol={"seed": 3})
    # per-episode accuracy is the fraction of correct queries: a multiple of 1 / (way * query)
    correct = result.accuracies * 12
    np.testing.assert_allclose(correct, np.round(correct), atol=1e-9)
    assert (result.mean, result.ci95) == pytest.approx(mean_ci95(result.accuracies))
    assert (result.way, result.shot, result.query, result.episodes) == (3, 2, 4, 12)
    p = result.protocol
    assert p["dataset"] == "toy" and p["split"] == "test" and p["image_size"] == 16 and p["seed"] == 3
    assert "1.96" in p["formula"] and "ddof=0" in p["formula"]
    line = result.summary()
    assert "\n" not in line and "3-way 2-shot 4-query" in line and "12 episodes" in line and "seed 3" in line


def test_noise_free_classes_are_recognised_perfectly():
    images = toy_set(noise=0)  # every image of a class is identical: nearest prototype is always right
    result = evaluate(make_method(), images, episodes(images), transform, "cpu", progress=False)
    assert result.mean == 1.0 and result.ci95 == 0.0


def test_save_load_and_paired_comparison(tmp_path):
    images = toy_set()
    eps = episodes(images)
    a = evaluate(make_method(), images, eps, transform, "cpu", progress=False)
    torch.manual_seed(5)
    other = ProtoNet(build_backbone("cnn4", in_channels=3), (3, 16, 16), 10)
    b = evaluate(other, images, eps, transform, "cpu", progress=False)
    loaded = load_result(save_result(a, tmp_path / "a.json"))
    np.testing.assert_array_equal(loaded.accuracies, a.accuracies)
    assert loaded.protocol == a.protocol and loaded.mean == a.mean
    mean, ci = compare_results(loaded, b)
    assert mean == pytest.approx(a.mean - b.mean)
    assert ci == pytest.approx(mean_ci95(a.accuracies - b.accuracies)[1])
    shifted = evaluate(other, images, episodes(images, seed=4), transform, "cpu", progress=False)
    with pytest.raises(DataError, match="not computed on the same episodes"):
        compare_results(a, shifted)


def test_load_result_refuses_other_files(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"format": "something-else"}')
    with pytest.raises(DataError, match="is not a fewshot-nsl-eval"):
        load_result(bad)
    with pytest.raises(DataError, match="does not exist"):
        load_result(tmp_path / "missing.json")
    old = tmp_path / "v1.json"  # version 1 held percent: refused, never read in the wrong unit
    old.write_text('{"format": "fewshot-nsl-eval", "version": 1, "mean": 47.5, "accuracies": [47.5]}')
    with pytest.raises(DataError, match="version 1 file .*percent.*evaluate the run again"):
        load_result(old)


def test_mixed_episode_shapes_are_refused():
    images = toy_set()
    mixed = episodes(images, n=2) + episodes(images, n=2, shot=1)
    with pytest.raises(DataError, match="different shapes"):
        evaluate(make_method(), images, mixed, transform, "cpu", progress=False)
