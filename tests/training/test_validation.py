"""The trainer's validation: any Validator's fractions, gathered in episode order, summarised by mean_ci95."""

import ast
import math
import pathlib

import numpy as np
import pytest
import torch

from fewshot_nsl.runtime.distributed import DistInfo
from fewshot_nsl.training.validation import as_logged, validate_sharded

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "fewshot_nsl"


class FixedScores:
    """A Validator scoring episode e (an int here) as SCORES[e]; records what it was asked."""

    SCORES = [1 / 3, 2 / 3, 0.2, 1.0, 0.0, 7 / 15]

    def __init__(self):
        self.seen = []

    def __call__(self, method, images, episodes, transform, device):
        self.seen.append(list(episodes))
        return np.array([self.SCORES[e] for e in episodes])


def test_validate_sharded_summarises_the_validators_fractions():
    validator = FixedScores()
    method = torch.nn.Linear(2, 2)
    episodes = list(range(len(FixedScores.SCORES)))
    val = validate_sharded(validator, method, None, episodes, None, torch.device("cpu"), DistInfo())
    assert validator.seen == [episodes]  # one process scores every episode, in order
    # the numbers metrics.jsonl has always held: per-episode x*100/100, then 1.96 * population std / sqrt(n)
    accs = np.array([(a * 100.0) / 100.0 for a in FixedScores.SCORES])
    assert val["val_accuracy"] == float(accs.mean())
    assert val["val_ci95"] == float(1.96 * accs.std() / math.sqrt(len(accs)))


def test_as_logged_is_the_percent_round_trip():
    assert as_logged(1 / 3) == (1 / 3 * 100.0) / 100.0
    assert as_logged(0.2) == 0.2 and as_logged(1.0) == 1.0
    assert as_logged(1 / 3) == pytest.approx(1 / 3, abs=1e-15)


@pytest.mark.parametrize("folder, forbidden", [("training", "evaluation"), ("evaluation", "training")])
def test_training_and_evaluation_do_not_import_each_other(folder, forbidden):
    for path in sorted((PACKAGE / folder).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            assert not any(forbidden in name.split(".") for name in names), f"{path.name} imports {names}"
