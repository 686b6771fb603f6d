"""The classifier method and its recipe (NSL_SPEC §6): the score layer, the loss, the schedule, the augmentation,
the classification evaluation, and a whole ``fewshot-nsl train --method classifier`` run with exact resume."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from fewshot_nsl import backbones
from fewshot_nsl.data.transforms import AUGMENTATIONS, EpisodeTransform
from fewshot_nsl.evaluation.classification import wilson_interval
from fewshot_nsl.layers import NSConv2d
from fewshot_nsl.methods import get_method
from fewshot_nsl.runtime.config import resolve_config
from fewshot_nsl.training.optim import build_optimizer, build_scheduler

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))  # the CIFAR file writer of the data tests
from cifar_files import write_cifar10  # noqa: E402

SHAPE = (3, 32, 32)


def classifier(nsl="none", classes=10, **options):
    cls = get_method("classifier")
    return cls(backbones.build("cifar9", nsl=nsl), SHAPE, classes, cls.Options(**options))


def test_the_score_layer_is_the_spec_s_4x4_conv():
    torch.manual_seed(0)
    method = classifier()
    assert sum(p.numel() for p in method.parameters()) == 511200  # NSL_SPEC §6: 0.511 M
    net = backbones.build("cifar9", num_classes=10)
    net.load_state_dict({**method.backbone.state_dict(), "score.weight": method.score.weight.view(10, 128, 4, 4)})
    method.eval()
    net.eval()
    x = torch.rand(3, *SHAPE) * 255
    torch.testing.assert_close(method.logits(x), net(x), rtol=1e-4, atol=1e-4)


def test_loss_is_smoothed_cross_entropy_plus_l2_without_the_static_m():
    torch.manual_seed(0)
    method = classifier("static-uns", label_smoothing=0.01, l2=5e-4)
    x, y = torch.rand(4, *SHAPE) * 255, torch.tensor([0, 3, 9, 3])
    loss, metrics = method.supervised_loss(x, y)
    logits = method.logits(x)
    targets = torch.full((4, 10), 0.01 / 10).scatter_(1, y[:, None], 1 - 0.01 + 0.01 / 10)
    ce = -(targets * logits.log_softmax(1)).sum(1).mean()
    ms = {id(m.M) for m in method.modules() if isinstance(m, NSConv2d)}
    assert len(ms) == 9
    l2 = 0.5 * 5e-4 * sum(p.square().sum() for p in method.parameters() if id(p) not in ms)
    torch.testing.assert_close(loss, ce + l2, rtol=1e-5, atol=1e-6)
    assert 0 <= metrics["accuracy"] <= 1


def test_the_preset_is_the_released_recipe():
    c = resolve_config("classifier")
    assert (c.optim.optimizer, c.optim.lr, c.optim.momentum, c.optim.weight_decay) == ("sgd", 0.1, 0.9, 0.0)
    assert c.optim.lr_milestones == [20000, 30000, 37500] and c.optim.lr_gamma == 0.1
    assert (c.train.episodes, c.train.batch_size, c.train.val_every) == (42500, 128, 500)
    o = c.method_options()
    assert (o.label_smoothing, o.l2) == (0.01, 5e-4)
    assert (c.model.backbone, c.data.augmentation, c.data.val_split) == ("cifar9", "cifar", "test")


def test_multi_step_schedule():
    config = resolve_config("classifier", overrides=["optim.lr_milestones=[4, 6]", "optim.lr=1.0"])
    opt = build_optimizer(config, [torch.nn.Parameter(torch.zeros(1))])
    sched = build_scheduler(config, opt, global_batch=2)  # milestones at steps 2 and 3
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([1.0, 1.0, 0.1, 0.01, 0.01])
    bad = resolve_config("classifier", overrides=["optim.lr_milestones=[6, 4]"])
    with pytest.raises(Exception, match="optim.lr_milestones"):
        build_scheduler(bad, opt, 1)


def test_cifar_augmentation_is_pad4_symmetric_crop_and_flip():
    rng_images = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    t = EpisodeTransform(mean=(0, 0, 0), std=(1, 1, 1), image_size=32, augment=True, **AUGMENTATIONS["cifar"])
    out = t(rng_images, np.random.default_rng(5)).numpy().transpose(0, 2, 3, 1)
    rng = np.random.default_rng(5)
    oy, ox = rng.integers(0, 9, size=(2, 3))
    flip = rng.random(3) < 0.5
    padded = np.pad(rng_images, ((0, 0), (4, 4), (4, 4), (0, 0)), mode="symmetric")
    for i in range(3):
        crop = padded[i, oy[i]:oy[i] + 32, ox[i]:ox[i] + 32]
        np.testing.assert_array_equal(out[i], crop[:, ::-1] if flip[i] else crop)  # raw pixels, no jitter
    plain = EpisodeTransform(mean=(0, 0, 0), std=(1, 1, 1), image_size=32)
    np.testing.assert_array_equal(plain(rng_images).numpy().transpose(0, 2, 3, 1), rng_images)


def test_wilson_interval():
    lo, hi = wilson_interval(5, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)
    assert wilson_interval(0, 10)[0] == 0.0 and round(wilson_interval(0, 10)[1], 4) == 0.2775


def _train(tmp_path, out, episodes, extra=()):
    from fewshot_nsl.cli.main import main

    data = tmp_path / "data"
    if not data.exists():
        write_cifar10(data, per_file=20)
    return main(["train", "--method", "classifier", "--data-root", str(data), "--out", str(out),
                 "--episodes", str(episodes), "--device", "cpu", "--no-progress", "--val-every", "2",
                 "--val-episodes", "2", "--set", "train.batch_size=8", "--set", "eval.way=2", "--set", "eval.shot=1",
                 "--set", "eval.query=1", "--set", "data.cache_dir=" + str(tmp_path / "cache"),
                 "--set", "optim.lr_milestones=[2]", *extra])


def test_a_classifier_run_reports_errors_and_resumes_exactly(tmp_path, capsys):
    assert _train(tmp_path, tmp_path / "whole", 4, ["--json"]) == 0
    payload = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert payload["images"] == 20 and payload["split"] == "test"
    for key in ("top1", "top5"):
        lo, hi = payload[f"{key}_ci95"]
        assert 0 <= lo <= payload[f"{key}_error"] <= hi <= 1
    assert payload["top5_error"] <= payload["top1_error"] and "Wilson" in payload["ci_method"]
    assert (tmp_path / "whole" / "eval" / "test_classification.json").is_file()
    records = [json.loads(line) for line in (tmp_path / "whole" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "val_accuracy" in r] == [2, 4]
    assert _train(tmp_path, tmp_path / "split", 2, ["--no-eval"]) == 0
    assert _train(tmp_path, tmp_path / "split", 4, ["--no-eval"]) == 0
    whole = torch.load(tmp_path / "whole" / "checkpoints" / "last.pt", weights_only=False)["model"]
    split = torch.load(tmp_path / "split" / "checkpoints" / "last.pt", weights_only=False)["model"]
    assert whole.keys() == split.keys() and all(torch.equal(whole[k], split[k]) for k in whole)
