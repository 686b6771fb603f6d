"""The leaderboard with an injected fake trainer and evaluator: table/CSV/JSON contents, ranks, resume."""

import csv
import json

import numpy as np
import pytest

from fewshot_nsl.episodes.files import read_episode_file
from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.experiments.budgets import BUDGETS, ROWS
from fewshot_nsl.experiments.leaderboard import run_leaderboard
from fewshot_nsl.evaluation.result import EvalResult, save_result
from fewshot_nsl.evaluation.run_eval import result_path
from fewshot_nsl.core.stats import paired_difference
from fewshot_nsl.runtime.config import save_config

#: per-episode accuracy offsets (fractions) of the fake rows (protonet is the reference)
OFFSET = {"protonet": 0.0, "static": 0.0005, "dynamic-cnn4": 0.06, "maml": -0.05}


class FakeTrainer:
    def __init__(self):
        self.calls = []

    def __call__(self, config, run_dir, resume=True):
        self.calls.append(run_dir.name)
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, run_dir / "config.yaml")
        (run_dir / "DONE").write_text(json.dumps({"episodes": config.train.episodes, "wall_s": 12.5}))
        return run_dir


class FakeEvaluator:
    """Accuracy of episode i = base_i + the row's offset (+ a zero-mean pattern), saved like evaluate_run."""

    def __init__(self):
        self.calls = []

    def __call__(self, run_dir, split, way, shot, query, episodes, episodes_file, data_root, device, checkpoint,
                 precision):
        self.calls.append(run_dir.name)
        ef = read_episode_file(episodes_file)
        base = np.random.default_rng(0).uniform(0.40, 0.80, ef.episodes)
        # +-0.01 alternating for every row but protonet: paired CI vs protonet = 0.0196 / sqrt(20) = 0.0044
        noise = np.resize([0.01, -0.01], ef.episodes) * (run_dir.name != "protonet")
        accs = base + OFFSET[run_dir.name] + noise
        protocol = {"dataset": ef.dataset, "split": ef.split, "image_size": 32, "episodes_sha256": "x" + ef.sha256,
                    "episodes_file": str(episodes_file), "episodes_file_sha256": ef.sha256,
                    "checkpoint": str(run_dir / "checkpoints" / f"{checkpoint}.pt"), "parameters": 1000,
                    "precision": precision}
        result = EvalResult.from_accuracies(accs, ef.way, ef.shot, ef.query, protocol)
        save_result(result, result_path(run_dir, split, ef.way, ef.shot))
        return result


def run(tmp_path, train, evaluate, methods=("protonet", "static", "dynamic-cnn4", "maml")):
    return run_leaderboard("synthetic", "smoke", tmp_path / "lb", methods=list(methods), device="cpu",
                           progress=False, train_fn=train, eval_fn=evaluate)


def test_table_csv_json_and_ranks(tmp_path):
    train, evaluate = FakeTrainer(), FakeEvaluator()
    rows = run(tmp_path, train, evaluate)
    assert sorted(train.calls) == ["dynamic-cnn4", "maml", "protonet", "static"]
    by_key = {r["key"]: r for r in rows}
    assert rows[0]["key"] == "dynamic-cnn4"
    assert by_key["dynamic-cnn4"]["rank"] == 1
    assert by_key["protonet"]["rank"] == by_key["static"]["rank"] == 2  # 0.05 points apart: tied
    assert by_key["maml"]["rank"] == 4
    # paired difference against ProtoNet on the very same episodes
    out = tmp_path / "lb"
    acc = {k: json.loads(result_path(out / k, "val", 5, 5).read_text())["accuracies"] for k in by_key}
    d, ci = paired_difference(acc["dynamic-cnn4"], acc["protonet"])
    assert by_key["dynamic-cnn4"]["delta_reference"] == pytest.approx(d)
    assert by_key["dynamic-cnn4"]["delta_reference_ci95"] == pytest.approx(ci)
    assert by_key["protonet"]["delta_reference"] is None
    # paper values beside ours only for Mini-ImageNet 5-way 5-shot
    assert all(r["paper"] is None for r in rows)
    assert by_key["maml"]["train_episodes"] == 6 and by_key["maml"]["wall_s"] == 12.5
    assert by_key["static"]["image_size"] == 32 and by_key["static"]["parameters"] == 1000

    md = (out / "leaderboard.md").read_text()
    assert "| rank | method | backbone |" in md and "Δ vs protonet" in md and "ddof=0" in md
    assert "Budget 'smoke'" in md and "shrunk:" in md and "(reference)" in md
    assert sum(line.startswith("| ") for line in md.splitlines()) == 5  # header + 4 rows
    with open(out / "leaderboard.csv") as handle:
        table = list(csv.DictReader(handle))
    assert [t["key"] for t in table] == [r["key"] for r in rows]
    assert float(table[0]["accuracy_pct"]) == pytest.approx(100 * rows[0]["accuracy"])  # percent in the CSV
    assert f"| {100 * rows[0]['accuracy']:.2f} ± {100 * rows[0]['ci95']:.2f} |" in md  # and in the table
    items = json.loads((out / "leaderboard.json").read_text())
    assert {"method", "backbone", "accuracy", "ci95"} <= set(items[0])
    assert items[0]["accuracy"] == pytest.approx(rows[0]["accuracy"])  # fractions in JSON
    assert 0.0 < items[0]["accuracy"] < 1.0
    assert items[0]["method"] == "dynamic" and items[0]["backbone"] == "cnn4"


def test_resume_skips_finished_rows_and_saved_evaluations(tmp_path):
    train, evaluate = FakeTrainer(), FakeEvaluator()
    first = run(tmp_path, train, evaluate, methods=("protonet", "static"))
    assert sorted(train.calls) == ["protonet", "static"] and len(evaluate.calls) == 2
    # a "killed" run: static never finished
    (tmp_path / "lb" / "static" / "DONE").unlink()
    train2, evaluate2 = FakeTrainer(), FakeEvaluator()
    again = run(tmp_path, train2, evaluate2, methods=("protonet", "static"))
    assert train2.calls == ["static"]
    assert evaluate2.calls == ["static"]  # protonet's saved evaluation is reused
    assert [r["accuracy"] for r in again] == pytest.approx([r["accuracy"] for r in first])


def test_saved_evaluation_in_percent_is_evaluated_again(tmp_path):
    train, evaluate = FakeTrainer(), FakeEvaluator()
    first = run(tmp_path, train, evaluate, methods=("protonet",))
    saved = result_path(tmp_path / "lb" / "protonet", "val", 5, 5)
    data = json.loads(saved.read_text())
    data.update(version=1, mean=100 * data["mean"], ci95=100 * data["ci95"],
                accuracies=[100 * a for a in data["accuracies"]])  # as the percent-era code wrote it
    saved.write_text(json.dumps(data))
    evaluate2 = FakeEvaluator()
    again = run(tmp_path, FakeTrainer(), evaluate2, methods=("protonet",))
    assert evaluate2.calls == ["protonet"]  # not mixed into the table as if it were fractions
    assert again[0]["accuracy"] == pytest.approx(first[0]["accuracy"]) and 0.0 < again[0]["accuracy"] < 1.0


def test_finished_row_with_another_config_is_refused(tmp_path):
    train, evaluate = FakeTrainer(), FakeEvaluator()
    run(tmp_path, train, evaluate, methods=("protonet",))
    config = tmp_path / "lb" / "protonet" / "config.yaml"
    config.write_text(config.read_text().replace("val_episodes: 4", "val_episodes: 5"))
    with pytest.raises(ConfigError, match="train.val_episodes=5"):
        run(tmp_path, FakeTrainer(), FakeEvaluator(), methods=("protonet",))


def test_unknown_rows_and_budgets_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="unknown row 'protonett'"):
        run(tmp_path, FakeTrainer(), FakeEvaluator(), methods=("protonett",))
    with pytest.raises(ConfigError, match="unknown budget"):
        run_leaderboard("synthetic", "huge", tmp_path, train_fn=FakeTrainer(), eval_fn=FakeEvaluator())


def test_rows_and_budgets_resolve_to_valid_configs():
    from fewshot_nsl.experiments.leaderboard import row_config

    paper = {r.key: r.paper for r in ROWS}
    assert paper["protonet"] == 68.20 and paper["dynamic-cnn9"] == 77.44 and len(ROWS) == 10
    for budget in BUDGETS.values():
        for row in ROWS:
            config = row_config(row, budget, "mini-imagenet", None, "cpu", False)
            assert config.method_name == row.method
            if budget.max_image_size:
                assert config.data.image_size <= budget.max_image_size
    assert row_config(ROWS[-1], BUDGETS["paper"], "mini-imagenet", None, "cpu", False).model.backbone == "cnn9"


@pytest.mark.slow
def test_smoke_budget_end_to_end_with_the_real_trainer(tmp_path, capsys):
    """An episodic and a supervised row, trained and evaluated for real on synthetic data; --json last line."""
    import argparse

    from fewshot_nsl.cli import leaderboard as leaderboard_cli

    parser = argparse.ArgumentParser()
    leaderboard_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["leaderboard", "--dataset", "synthetic", "--budget", "smoke", "--out",
                              str(tmp_path / "lb"), "--methods", "protonet", "finetune", "--device", "cpu",
                              "--no-progress", "--json"])
    assert args.func(args) == 0
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert sorted(r["method"] for r in rows) == ["finetune", "protonet"]
    for r in rows:
        assert 0.0 <= r["accuracy"] <= 1.0 and r["ci95"] > 0 and r["backbone"] == "cnn4"
        assert r["train_episodes"] == 6 and r["image_size"] == 32
        assert (tmp_path / "lb" / r["key"] / "DONE").exists()
    assert (tmp_path / "lb" / "leaderboard.csv").exists()
