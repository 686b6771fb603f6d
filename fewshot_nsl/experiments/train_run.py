"""Train a run, validating with the evaluator: the one place where training and evaluation are joined.

:mod:`fewshot_nsl.training` scores validation episodes with whatever :class:`~fewshot_nsl.training.validation.
Validator` it is given and :mod:`fewshot_nsl.evaluation` knows nothing of training; this module passes the
evaluator's :func:`~fewshot_nsl.evaluation.evaluator.episode_accuracies` to the trainer (for a method whose
``evaluation_kind`` is ``classification``: :func:`~fewshot_nsl.evaluation.classification.classification_accuracies`).
"""

from __future__ import annotations

from pathlib import Path

from ..evaluation.classification import classification_accuracies
from ..evaluation.evaluator import episode_accuracies
from ..methods import get_method
from ..runtime.config import Config
from ..training.trainer import Trainer
from ..training.validation import Validator

#: a method's ``evaluation_kind`` -> how its validation episodes are scored during training
VALIDATORS: dict[str, Validator] = {"episodes": episode_accuracies, "classification": classification_accuracies}


def train(config: Config, out_dir: str | Path, resume: bool = True) -> Path:
    """Train ``config`` into ``out_dir`` and return the run directory.

    Re-running into a run directory resumes from ``checkpoints/last.pt`` (unless ``resume=False``); a finished
    run (``DONE`` present) returns at once. Bad input raises :class:`~fewshot_nsl.core.errors.FewShotError`
    before anything in ``out_dir`` is changed. Validation accuracies (``metrics.jsonl``) are fractions.
    """
    validator = VALIDATORS[get_method(config.method_name).evaluation_kind]
    return Trainer(config, Path(out_dir), validator=validator, resume=resume).fit()
