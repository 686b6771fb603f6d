"""``leaderboard --table cifar``: rows, paper columns, per-seed statistics checked by hand, shards, reuse, and the
whole pipeline (real training and scoring) on tiny CIFAR-10 files in the published format."""

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from fewshot_nsl.cli import leaderboard as leaderboard_cli
from fewshot_nsl.core.errors import ConfigError, DataError
from fewshot_nsl.core.stats import t_quantile_975
from fewshot_nsl.evaluation.classification import ClassificationResult, result_path, wilson_interval
from fewshot_nsl.experiments.cifar_rows import CIFAR_BUDGETS, CIFAR_ROWS, scaled_schedule
from fewshot_nsl.experiments.leaderboard import row_config
from fewshot_nsl.experiments.tables import TABLES
from fewshot_nsl.runtime.config import save_config
from fewshot_nsl.runtime.yaml_io import read_yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))  # the CIFAR file writer of the data tests
from cifar_files import write_cifar10  # noqa: E402

N = 400  # test images of the fake evaluator
#: wrong-answer rate of each fake row, and a per-seed shift
RATE = {"plain": 0.30, "static-dns": 0.27, "dynamic-dns": 0.18, "dynamic-dns-shared": 0.295}
SEED_SHIFT = {0: 0.0, 1: 0.02, 2: -0.01}
DIFFICULTY = np.random.default_rng(0).uniform(size=N)  # the same images are hard for every row


def row_key(run_dir):
    return run_dir.parent.name if run_dir.name.startswith("seed-") else run_dir.name


def fake_wrong(key, seed):
    """(N,) 0/1 top-1 outcomes: shared difficulty, plus a few row- and seed-specific flips."""
    flips = np.random.default_rng([len(key), seed]).random(N) < 0.04
    return ((DIFFICULTY < RATE[key] + SEED_SHIFT[seed]) ^ flips).astype(int)


class FakeTrainer:
    def __init__(self):
        self.calls = []

    def __call__(self, config, run_dir, resume=True):
        self.calls.append((row_key(run_dir), config.train.seed))
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, run_dir / "config.yaml")
        (run_dir / "DONE").write_text(json.dumps({"episodes": config.train.episodes, "wall_s": 30.0}))
        return run_dir


class FakeClassifier:
    """Saves a ClassificationResult where the real evaluation does; ``images`` sets the images fingerprint."""

    def __init__(self, images="same"):
        self.calls, self.images = [], images

    def __call__(self, run_dir, split, data_root, device, checkpoint):
        key, seed = row_key(run_dir), read_yaml(run_dir / "config.yaml")["train"]["seed"]
        self.calls.append((key, seed))
        wrong = fake_wrong(key, seed)
        w5 = int(wrong.sum() // 3)
        protocol = {"checkpoint": str(run_dir / "checkpoints" / f"{checkpoint}.pt"), "parameters": 5000,
                    "image_size": 32, "images_sha256": self.images if key != "static-dns" else "same"}
        result = ClassificationResult(split, N, wrong.mean(), w5 / N, wilson_interval(int(wrong.sum()), N),
                                      wilson_interval(w5, N), protocol, "".join(map(str, wrong)))
        path = result_path(run_dir, split)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result.__dict__))
        return result


def run(out, train, classify, dataset="cifar10", seeds=None, shard=None,
        methods=("plain", "static-dns", "dynamic-dns", "dynamic-dns-shared")):
    return TABLES["cifar"].run(dataset, "smoke", out, methods=list(methods), device="cpu", progress=False,
                               train_fn=train, eval_fn=classify, seeds=seeds, shard=shard)


def test_rows_budgets_and_the_scaled_schedule():
    assert [r.key for r in CIFAR_ROWS] == ["plain", "static-dns", "static-uns", "dynamic-dns", "dynamic-uns",
                                           "dynamic-dns-shared"]
    assert {r.key: r.paper_error.get("cifar10") for r in CIFAR_ROWS} == {
        "plain": 7.78, "static-dns": 7.15, "static-uns": 7.38, "dynamic-dns": 6.85, "dynamic-uns": 6.5,
        "dynamic-dns-shared": 7.20}
    assert [r.paper_error.get("cifar100") for r in CIFAR_ROWS] == [28.95, 28.35, 28.11, 27.81, 28.02, None]
    assert scaled_schedule(4000) == ("train.episodes=4000", "optim.lr_milestones=[1882, 2824, 3529]")
    cpu = {r.key: row_config(r, CIFAR_BUDGETS["cifar-cpu"], "mini-imagenet-generic", None, "cpu", False)
           for r in CIFAR_ROWS}
    for c in cpu.values():
        assert (c.method_name, c.model.backbone, c.train.episodes, c.train.batch_size) == ("classifier", "cifar9",
                                                                                           4000, 128)
        assert c.optim.lr_milestones == [1882, 2824, 3529] and c.optim.lr == 0.1
    assert cpu["dynamic-dns-shared"].model.param == "shared" and cpu["static-uns"].model.nsl == "static-uns"
    paper = row_config(CIFAR_ROWS[0], CIFAR_BUDGETS["paper"], "cifar100", None, "cpu", False)
    assert (paper.train.episodes, paper.optim.lr_milestones) == (42500, [20000, 30000, 37500])
    assert all(b.checkpoint == "last" and b.eval_split == "test" for b in CIFAR_BUDGETS.values())


def test_three_seeds_statistics_by_hand_and_the_files(tmp_path):
    out, train = tmp_path / "lb", FakeTrainer()
    rows = {r["key"]: r for r in run(out, train, FakeClassifier(), seeds=[0, 1, 2])}
    assert sorted(train.calls) == sorted((k, s) for k in RATE for s in (0, 1, 2))
    wrong = {(k, s): fake_wrong(k, s) for k in RATE for s in (0, 1, 2)}
    t2 = t_quantile_975(2)
    for key, r in rows.items():
        errs = [wrong[key, s].mean() for s in (0, 1, 2)]
        assert r["seed_errors"] == pytest.approx(errs) and r["error"] == pytest.approx(np.mean(errs))
        half = t2 * np.std(errs, ddof=1) / np.sqrt(3)
        assert r["error_ci95"] == pytest.approx((np.mean(errs) - half, np.mean(errs) + half))
        assert r["run_dirs"] == [str(out / key / f"seed-{s}") for s in (0, 1, 2)]
        assert r["train_iterations"] == 4 and r["batch_size"] == 16 and r["images"] == N
    dyn, ref = rows["dynamic-dns"], rows["plain"]
    per_seed = [wrong["dynamic-dns", s].mean() - wrong["plain", s].mean() for s in (0, 1, 2)]
    assert dyn["delta_reference"] == pytest.approx(np.mean(per_seed))
    assert dyn["delta_seed_ci95"] == pytest.approx(t2 * np.std(per_seed, ddof=1) / np.sqrt(3))
    d = np.concatenate([wrong["dynamic-dns", s] - wrong["plain", s] for s in (0, 1, 2)])
    assert dyn["delta_image_ci95"] == pytest.approx(1.96 * d.std() / np.sqrt(3 * N))
    assert ref["delta_reference"] is None and ref["delta_image_ci95"] is None
    # paper column: CIFAR-10's, as fractions
    assert ref["paper"] == pytest.approx(0.0778) and rows["dynamic-dns-shared"]["paper"] == pytest.approx(0.072)
    # dynamic is 12 points better on every seed: rank 1; the others within a few points tie across seeds
    assert dyn["rank"] == 1 and rows["plain"]["rank"] > 1
    items = {i["key"]: i for i in json.loads((out / "leaderboard.json").read_text())}
    assert items["dynamic-dns"]["error"] == pytest.approx(dyn["error"]) and items["plain"]["seeds"] == [0, 1, 2]
    table = list(csv.DictReader((out / "leaderboard.csv").open()))
    got = {r["key"]: r for r in table}
    assert float(got["dynamic-dns"]["delta_image_ci95_pct"]) == pytest.approx(100 * dyn["delta_image_ci95"])
    assert float(got["plain"]["error_ci95_low_pct"]) == pytest.approx(100 * ref["error_ci95"][0])
    md = (out / "leaderboard.md").read_text()
    assert "paper cifar10 (%)" in md and "Δ vs plain" in md and "McNemar" in md and "7.78" in md
    assert f"{100 * dyn['delta_reference']:+.2f} ± {100 * dyn['delta_image_ci95']:.2f}" in md


def test_one_seed_wilson_and_the_paired_proportions_interval(tmp_path):
    rows = {r["key"]: r for r in run(tmp_path / "one", FakeTrainer(), FakeClassifier(), dataset="cifar100",
                                     methods=("plain", "static-dns"))}
    a, b = fake_wrong("static-dns", 0), fake_wrong("plain", 0)
    assert rows["plain"]["error_ci95"] == pytest.approx(wilson_interval(int(b.sum()), N))
    # the Wald interval of two paired proportions from the discordant counts
    n10, n01 = int(((a == 1) & (b == 0)).sum()), int(((a == 0) & (b == 1)).sum())
    sd = np.sqrt((n10 + n01) / N - ((n10 - n01) / N) ** 2)
    r = rows["static-dns"]
    assert r["delta_reference"] == pytest.approx((n10 - n01) / N)
    assert r["delta_image_ci95"] == pytest.approx(1.96 * sd / np.sqrt(N)) and r["delta_seed_ci95"] is None
    assert rows["plain"]["paper"] == pytest.approx(0.2895) and r["paper"] == pytest.approx(0.2835)


def test_the_stand_in_shows_cifar100_s_column_and_says_so(tmp_path):
    rows = run(tmp_path / "s", FakeTrainer(), FakeClassifier(), dataset="mini-imagenet-generic",
               methods=("plain", "dynamic-dns-shared"))
    assert {r["key"]: r["paper"] for r in rows} == {"plain": pytest.approx(0.2895), "dynamic-dns-shared": None}
    md = (tmp_path / "s" / "leaderboard.md").read_text()
    assert "paper (cifar100, for the ordering)" in md and "stand-in of cifar100" in md


def test_shards_then_assembly_and_reuse(tmp_path):
    out, train, classify = tmp_path / "sh", FakeTrainer(), FakeClassifier()
    first = run(out, train, classify, seeds=[0, 1], shard=(0, 2))
    run(out, train, classify, seeds=[0, 1], shard=(1, 2))
    assert [(e["key"], e["seed"]) for e in first] == [("plain", 0), ("static-dns", 0), ("dynamic-dns", 0),
                                                        ("dynamic-dns-shared", 0)]
    assert not (out / "leaderboard.md").exists() and len(train.calls) == 8
    again_train, again_classify = FakeTrainer(), FakeClassifier()
    table = run(out, again_train, again_classify, seeds=[0, 1])
    assert again_train.calls == [] and again_classify.calls == []  # finished runs and their scores reused
    whole = run(tmp_path / "whole", FakeTrainer(), FakeClassifier(), seeds=[0, 1])
    drop = ("run_dir", "run_dirs")
    assert [{k: v for k, v in r.items() if k not in drop} for r in table] == \
        [{k: v for k, v in r.items() if k not in drop} for r in whole]


def test_rows_scored_on_other_images_are_refused(tmp_path):
    with pytest.raises(DataError, match="not scored on the same images"):
        run(tmp_path / "x", FakeTrainer(), FakeClassifier(images="other"), methods=("plain", "static-dns"))


def cli(argv):
    parser = argparse.ArgumentParser(prog="fewshot-nsl")
    leaderboard_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_refuses_what_the_table_does_not_take(tmp_path):
    base = ["leaderboard", "--table", "cifar", "--out", str(tmp_path / "lb")]
    with pytest.raises(ConfigError, match="--way does not apply to --table cifar"):
        cli([*base, "--way", "5"])
    with pytest.raises(ConfigError, match="not a budget of --table cifar"):
        cli([*base, "--budget", "equal-5k"])
    with pytest.raises(ConfigError, match="--dataset 'omniglot' has no column"):
        cli([*base, "--dataset", "omniglot"])
    with pytest.raises(ConfigError, match="unknown row 'protonet'"):
        cli([*base, "--methods", "protonet"])


def test_the_whole_pipeline_on_tiny_cifar10_files(tmp_path, capsys):
    """Real training (4 iterations) and real scoring of two rows on CIFAR-10 files in the published format."""
    data = tmp_path / "data"
    write_cifar10(data, per_file=200)  # 20 test images per class: the trainer's validation episodes need 20
    out = tmp_path / "lb"
    argv = ["leaderboard", "--table", "cifar", "--dataset", "cifar10", "--data-root", str(data), "--out", str(out),
            "--methods", "plain", "static-dns", "--device", "cpu", "--no-progress", "--json"]
    assert cli(argv) == 0
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {r["key"] for r in rows} == {"plain", "static-dns"}
    for r in rows:
        saved = json.loads(result_path(out / r["key"], "test").read_text())
        wrong = np.array([int(c) for c in saved["top1_wrong"]])
        assert r["images"] == len(wrong) == 200 and r["error"] == pytest.approx(wrong.mean())
        assert r["paper_column"] == "cifar10" and r["train_iterations"] == 4
    dns = next(r for r in rows if r["key"] == "static-dns")
    wrong = {k: np.array([int(c) for c in json.loads(result_path(out / k, "test").read_text())["top1_wrong"]])
             for k in ("plain", "static-dns")}
    assert dns["delta_reference"] == pytest.approx((wrong["static-dns"] - wrong["plain"]).mean())
    done = {p: p.stat().st_mtime_ns for p in out.glob("*/DONE")}
    assert cli(argv) == 0 and {p: p.stat().st_mtime_ns for p in out.glob("*/DONE")} == done
