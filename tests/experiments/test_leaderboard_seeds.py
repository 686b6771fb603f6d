"""Seeds as an axis of the leaderboard: per-seed run directories, statistics over seeds, shards, reuse."""

import dataclasses
import json

import numpy as np
import pytest

from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.core.stats import paired_difference, seed_ci95, t_quantile_975
from fewshot_nsl.episodes.files import read_episode_file
from fewshot_nsl.evaluation.result import EvalResult, save_result
from fewshot_nsl.evaluation.run_eval import result_path
from fewshot_nsl.experiments.jobs import in_shard, make_jobs, parse_shard, seed_run_dir
from fewshot_nsl.experiments.leaderboard import run_leaderboard
from fewshot_nsl.runtime.config import save_config

#: per-row offsets (fractions); per-seed offsets make seeds differ
OFFSET = {"protonet": 0.0, "static": 0.002, "dynamic-cnn4": 0.05}
SEED_OFFSET = {0: 0.0, 1: 0.01, 2: -0.004}
ROW_SEED = {("dynamic-cnn4", 1): 0.006, ("static", 2): 0.03}


def row_key(run_dir):
    return run_dir.parent.name if run_dir.name.startswith("seed-") else run_dir.name


class FakeTrainer:
    def __init__(self):
        self.calls = []

    def __call__(self, config, run_dir, resume=True):
        self.calls.append((row_key(run_dir), config.train.seed))
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, run_dir / "config.yaml")
        (run_dir / "DONE").write_text(json.dumps({"episodes": config.train.episodes, "wall_s": 10.0}))
        return run_dir


class FakeEvaluator:
    def __init__(self):
        self.calls = []

    def __call__(self, run_dir, split, way, shot, query, episodes, episodes_file, data_root, device, checkpoint,
                 precision):
        from fewshot_nsl.runtime.yaml_io import read_yaml

        key, seed = row_key(run_dir), read_yaml(run_dir / "config.yaml")["train"]["seed"]
        self.calls.append((key, seed))
        ef = read_episode_file(episodes_file)
        rng = np.random.default_rng(100 * seed + len(key))
        accs = np.random.default_rng(0).uniform(0.4, 0.8, ef.episodes) + rng.normal(0, 0.01, ef.episodes)
        accs += OFFSET[key] + SEED_OFFSET[seed] + ROW_SEED.get((key, seed), 0.0)
        protocol = {"dataset": ef.dataset, "split": ef.split, "image_size": 32, "episodes_sha256": "x" + ef.sha256,
                    "episodes_file": str(episodes_file), "episodes_file_sha256": ef.sha256,
                    "checkpoint": str(run_dir / "checkpoints" / f"{checkpoint}.pt"), "parameters": 1000,
                    "precision": precision}
        result = EvalResult.from_accuracies(accs, ef.way, ef.shot, ef.query, protocol)
        save_result(result, result_path(run_dir, split, ef.way, ef.shot))
        return result


def run(out, train, evaluate, seeds=None, shard=None, methods=("protonet", "static", "dynamic-cnn4")):
    return run_leaderboard("synthetic", "smoke", out, methods=list(methods), device="cpu", progress=False,
                           train_fn=train, eval_fn=evaluate, seeds=seeds, shard=shard)


def saved(out, key, seed):
    return np.array(json.loads(result_path(out / key / f"seed-{seed}", "val", 5, 5).read_text())["accuracies"])


def test_three_seeds_statistics_and_layout(tmp_path):
    out, train = tmp_path / "lb", FakeTrainer()
    rows = {r["key"]: r for r in run(out, train, FakeEvaluator(), seeds=[0, 1, 2])}
    assert sorted(train.calls) == sorted((k, s) for k in OFFSET for s in (0, 1, 2))
    acc = {(k, s): saved(out, k, s) for k in OFFSET for s in (0, 1, 2)}
    for key, r in rows.items():
        assert r["seeds"] == [0, 1, 2]
        assert r["seed_accuracies"] == pytest.approx([acc[key, s].mean() for s in (0, 1, 2)])
        assert r["accuracy"] == pytest.approx(np.mean(r["seed_accuracies"]))
        assert r["seed_sd"] == pytest.approx(np.std(r["seed_accuracies"], ddof=1))
        assert r["run_dirs"] == [str(out / key / f"seed-{s}") for s in (0, 1, 2)]
    dyn, ref = rows["dynamic-cnn4"], rows["protonet"]
    per_seed = [acc["dynamic-cnn4", s].mean() - acc["protonet", s].mean() for s in (0, 1, 2)]
    assert dyn["delta_reference"] == pytest.approx(np.mean(per_seed))
    assert dyn["delta_seed_ci95"] == pytest.approx(t_quantile_975(2) * np.std(per_seed, ddof=1) / np.sqrt(3))
    pooled = [np.concatenate([acc[k, s] for s in (0, 1, 2)]) for k in ("dynamic-cnn4", "protonet")]
    assert dyn["delta_reference_ci95"] == pytest.approx(paired_difference(*pooled)[1])
    assert ref["delta_seed_ci95"] is None and ref["delta_reference"] is None
    # ranks by the across-seed interval: static's seed-2 jump ties it with dynamic (and with protonet) across
    # seeds, although dynamic is 4 points better on every seed's episodes
    static_d = [acc["dynamic-cnn4", s].mean() - acc["static", s].mean() for s in (0, 1, 2)]
    assert np.mean(static_d) - seed_ci95(static_d)[1] < 0 < np.mean(static_d) - 0.01
    assert dyn["rank"] == rows["static"]["rank"] == 1 and ref["rank"] == 2
    items = {i["key"]: i for i in json.loads((out / "leaderboard.json").read_text())}
    assert items["static"]["seed_accuracies"] == pytest.approx(rows["static"]["seed_accuracies"])
    assert {"seeds", "seed_sd", "delta_seed_ci95"} <= set(items["protonet"])
    md = (out / "leaderboard.md").read_text()
    assert "s0: " in md and "(SD " in md and "across seeds" in md
    assert f"± {100 * dyn['delta_seed_ci95']:.2f}" in md
    assert "seed_accuracies_pct" in (out / "leaderboard.csv").read_text().splitlines()[0]


def test_shards_then_assembly_reuse_everything_and_match_an_unsharded_run(tmp_path):
    out, train, evaluate = tmp_path / "sharded", FakeTrainer(), FakeEvaluator()
    first = run(out, train, evaluate, seeds=[0, 1], shard=(0, 2))
    second = run(out, train, evaluate, seeds=[0, 1], shard=(1, 2))
    assert not (out / "leaderboard.md").exists()  # shards write no table
    # job order: rows in table order, then seeds; shard 0 takes jobs 0, 2, 4
    assert [(e["key"], e["seed"]) for e in first] == [("protonet", 0), ("static", 0), ("dynamic-cnn4", 0)]
    assert len(second) == 3 and len(train.calls) == 6
    assembly_train, assembly_eval = FakeTrainer(), FakeEvaluator()
    table = run(out, assembly_train, assembly_eval, seeds=[0, 1])
    assert assembly_train.calls == [] and assembly_eval.calls == []
    whole = run(tmp_path / "whole", FakeTrainer(), FakeEvaluator(), seeds=[0, 1])
    strip = [{k: v for k, v in r.items() if k not in ("run_dir", "run_dirs")} for r in table]
    assert strip == [{k: v for k, v in r.items() if k not in ("run_dir", "run_dirs")} for r in whole]


def test_a_single_seed_study_grows_into_several_seeds(tmp_path):
    out, train = tmp_path / "lb", FakeTrainer()
    one = run(out, train, FakeEvaluator(), methods=("protonet", "static"))
    assert (out / "protonet" / "DONE").exists() and one[0]["seeds"] == [0]  # today's layout, the preset's seed
    assert {r["key"]: r["delta_seed_ci95"] for r in one} == {"protonet": None, "static": None}
    again, evaluate = FakeTrainer(), FakeEvaluator()
    rows = run(out, again, evaluate, seeds=[0, 1], methods=("protonet", "static"))
    assert sorted(again.calls) == [("protonet", 1), ("static", 1)]  # seed 0 is the existing ROW/ run
    assert rows[0]["run_dirs"][0] == str(out / rows[0]["key"])
    assert (out / "static" / "seed-1" / "DONE").exists()
    assert seed_run_dir(out / "static", 1, several=False) == out / "static" / "seed-1"  # another seed's ROW/


def test_job_order_and_shard_syntax():
    jobs = make_jobs(["a", "b"], [0, 1, 2])
    assert [(j.key, j.seed) for j in jobs] == [("a", 0), ("a", 1), ("a", 2), ("b", 0), ("b", 1), ("b", 2)]
    assert [j.index for j in jobs if in_shard(j, (1, 4))] == [1, 5]
    assert all(in_shard(j, None) for j in jobs)
    assert parse_shard("1/3") == (1, 3)
    for bad in ("3/3", "-1/2", "1", "a/b", "0/0"):
        with pytest.raises(ConfigError, match="--shard must be I/N"):
            parse_shard(bad)
    with pytest.raises(ConfigError, match="each seed once"):
        make_jobs(["a"], [0, 0])


@pytest.mark.slow
def test_smoke_shards_with_the_real_trainer_then_assembly_retrains_nothing(tmp_path, capsys):
    """Two shard processes' worth of real (tiny) training, then the table: no DONE file is touched again."""
    import argparse

    from fewshot_nsl.cli import leaderboard as leaderboard_cli

    parser = argparse.ArgumentParser()
    leaderboard_cli.add_parser(parser.add_subparsers())

    def cli(out, *extra):
        args = parser.parse_args(["leaderboard", "--dataset", "synthetic", "--budget", "smoke", "--out", str(out),
                                  "--methods", "protonet", "static", "--device", "cpu", "--no-progress",
                                  "--seeds", "0", "1", "--json", *extra])
        assert args.func(args) == 0
        return capsys.readouterr().out.strip().splitlines()

    out = tmp_path / "lb"
    assert "shard 0/2: finished 2 job(s) (protonet/seed 0, static/seed 0)" in cli(out, "--shard", "0/2")[-1]
    assert "finished 2 job(s)" in cli(out, "--shard", "1/2")[-1]
    done = {p: p.stat().st_mtime_ns for p in out.glob("*/seed-*/DONE")}
    assert len(done) == 4 and not (out / "leaderboard.json").exists()
    table = json.loads(cli(out)[-1])
    assert {p: p.stat().st_mtime_ns for p in out.glob("*/seed-*/DONE")} == done  # nothing retrained
    whole = json.loads(cli(tmp_path / "whole")[-1])
    drop = ("run_dir", "run_dirs", "wall_s")
    assert [{k: v for k, v in r.items() if k not in drop} for r in table] == \
        [{k: v for k, v in r.items() if k not in drop} for r in whole]
    assert all(r["seeds"] == [0, 1] and len(r["seed_accuracies"]) == 2 for r in table)


def test_equal_budget_rows_share_the_training_protocol():
    from fewshot_nsl.experiments.budgets import BUDGETS
    from fewshot_nsl.experiments.leaderboard import row_config, select_rows

    budget = BUDGETS["equal-5k"]
    keys = [r.key for r in budget.rows]
    assert keys[:8] == ["protonet", "static", "static-dns", "metastatic", "dynamic-cnn4", "dynamic-cnn4-g1",
                        "dynamic-cnn9", "protonet-cnn9"]
    assert set(keys[8:13]) == {"maml", "relationnet", "matchingnet", "finetune", "nn"}
    assert keys[13:] == ["metastatic-a0.1", "metastatic-a0.01"]
    for dataset, size in (("mini-imagenet", 42), ("omniglot", 28)):
        for row in budget.rows:
            c = row_config(row, budget, dataset, None, "cpu", False)
            assert c.train.episodes == 5000 and c.data.image_size == size and c.data.augment, row.key
            assert (c.task.way, c.task.shot, c.task.query) == (5, 5, 15), row.key
    config = {r.key: row_config(r, budget, "mini-imagenet", None, "cpu", False) for r in budget.rows}
    assert config["static"].model.nsl == "static-uns" and config["static-dns"].model.nsl == "static-dns"
    assert config["dynamic-cnn4"].model.predictor_gamma == 0.1
    assert config["dynamic-cnn4-g1"].model.predictor_gamma == 1.0
    assert config["protonet-cnn9"].model.backbone == "cnn9" and config["protonet-cnn9"].model.nsl == "none"
    assert config["protonet"].train.val_every == 500 and config["protonet"].train.val_episodes == 50
    # (e): the meta-learned static NSN with only its inner step changed
    assert config["metastatic"].method["inner_lr"] == 0.4
    for key, lr in (("metastatic-a0.1", 0.1), ("metastatic-a0.01", 0.01)):
        assert config[key].method == {**config["metastatic"].method, "inner_lr": lr}, key
        assert dataclasses.replace(config[key], method=config["metastatic"].method) == config["metastatic"], key
    assert [r.key for r in select_rows(["metastatic"], budget.rows)] == ["metastatic"]
    assert budget.checkpoint == "last" and budget.eval_split == "val" and budget.eval_episodes == 600
    # a row key selects that row only; a method name that is no key selects all its rows
    assert [r.key for r in select_rows(["protonet"], budget.rows)] == ["protonet"]
    assert [r.key for r in select_rows(["dynamic"], budget.rows)] == ["dynamic-cnn4", "dynamic-cnn4-g1",
                                                                      "dynamic-cnn9"]


def test_another_reference_row_takes_the_paired_differences(tmp_path):
    out = tmp_path / "lb"
    rows = {r["key"]: r for r in run_leaderboard(
        "synthetic", "smoke", out, methods=["protonet", "static", "dynamic-cnn4"], device="cpu", progress=False,
        train_fn=FakeTrainer(), eval_fn=FakeEvaluator(), seeds=[0, 1], reference="dynamic-cnn4")}
    assert rows["dynamic-cnn4"]["delta_reference"] is None
    per_seed = [paired_difference(saved(out, "static", s), saved(out, "dynamic-cnn4", s))[0] for s in (0, 1)]
    assert rows["static"]["delta_reference"] == pytest.approx(np.mean(per_seed))
    assert "Δ vs dynamic-cnn4" in (out / "leaderboard.md").read_text()
    with pytest.raises(ConfigError, match="--reference 'maml' is not one of the rows run"):
        run_leaderboard("synthetic", "smoke", out, methods=["protonet"], device="cpu", progress=False,
                        train_fn=FakeTrainer(), eval_fn=FakeEvaluator(), reference="maml")
