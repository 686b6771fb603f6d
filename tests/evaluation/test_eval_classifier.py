"""``fewshot-nsl eval RUN_DIR`` on a classifier run: the classification evaluation (its method's
``evaluation_kind``), not the few-shot episodes."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from fewshot_nsl.cli.evaluate import EVALUATORS, evaluation_kind
from fewshot_nsl.cli.main import main
from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.evaluation.classification import load_classification_result, result_path, wilson_interval
from fewshot_nsl.methods import METHODS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))  # the CIFAR file writer of the data tests
from cifar_files import write_cifar10  # noqa: E402


def test_every_method_s_evaluation_kind_has_an_evaluator():
    from fewshot_nsl.methods import get_method

    assert {get_method(name).evaluation_kind for name in METHODS.names()} <= set(EVALUATORS)


def test_eval_scores_a_classifier_run_on_the_whole_test_split(tmp_path, capsys):
    data, run = tmp_path / "data", tmp_path / "run"
    write_cifar10(data, per_file=20)
    assert main(["train", "--method", "classifier", "--data-root", str(data), "--out", str(run), "--episodes", "2",
                 "--device", "cpu", "--no-progress", "--no-eval", "--val-every", "1000", "--set",
                 "train.batch_size=8", "--set", "eval.way=2", "--set", "eval.shot=1", "--set", "eval.query=1",
                 "--set", "train.val_episodes=1", "--set", "data.cache_dir=" + str(tmp_path / "cache")]) == 0
    assert evaluation_kind(run) == "classification" and evaluation_kind(tmp_path / "nothing") == "episodes"
    capsys.readouterr()
    assert main(["eval", str(run), "--device", "cpu", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    payload = json.loads(lines[-1])
    assert "top-1 error" in lines[0] and "Wilson" in lines[0]
    assert payload["images"] == 20 and payload["split"] == "test" and payload["checkpoint"].endswith("last.pt")
    saved = load_classification_result(result_path(run, "test"))
    wrong = saved.wrong()
    assert payload["top1_error"] == pytest.approx(wrong.mean()) == pytest.approx(saved.top1_error)
    assert payload["top1_ci95"] == pytest.approx(list(wilson_interval(int(wrong.sum()), 20)))
    assert payload["top5_error"] <= payload["top1_error"] and len(saved.protocol["images_sha256"]) == 64
    assert set(np.unique(wrong)) <= {0.0, 1.0}
    for flag in (["--way", "5"], ["--episodes-file", "x.json.gz"], ["--precision", "bf16"]):
        with pytest.raises(ConfigError, match=f"{flag[0]} does not apply to .*classification run"):
            _raw(["eval", str(run), *flag])


def _raw(argv):
    """Run a sub-command without main's one-line error handling, so the FewShotError reaches the test."""
    import argparse

    from fewshot_nsl.cli import evaluate

    parser = argparse.ArgumentParser(prog="fewshot-nsl")
    evaluate.add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)
