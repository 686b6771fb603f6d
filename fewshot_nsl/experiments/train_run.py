"""Train a run, validating with the evaluator: the one place where training and evaluation are joined.

:mod:`fewshot_nsl.training` scores validation episodes with whatever :class:`~fewshot_nsl.training.validation.
Validator` it is given and :mod:`fewshot_nsl.evaluation` knows nothing of training; this module passes the
evaluator's :func:`~fewshot_nsl.evaluation.evaluator.episode_accuracies` to the trainer (for a method whose
``evaluation_kind`` is ``classification``: :func:`~fewshot_nsl.evaluation.classification.classification_accuracies`).
"""

from __future__ import annotations

from pathlib import Path

from ..data import class_split_of
from ..data.class_split import write_class_split
from ..data.roots import resolve_root
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
    With ``data.class_split``, the classes of each split are recorded in ``RUN_DIR/class_split.json``.
    """
    validator = VALIDATORS[get_method(config.method_name).evaluation_kind]
    trainer = Trainer(config, Path(out_dir), validator=validator, resume=resume)
    if not trainer.run.config.exists():  # a new run: recorded now, so that a killed run has it too
        _record_class_split(config, trainer)
    run_dir = trainer.fit()
    _record_class_split(config, trainer)  # a resumed or restarted run, once the trainer has accepted the directory
    return run_dir


def _record_class_split(config: Config, trainer: Trainer) -> None:
    d = config.data
    rule = d.class_split_rule()
    if rule is not None and trainer.dist.is_main:
        write_class_split(trainer.run.root, rule, d.dataset, resolve_root(d.dataset, d.data_root),
                          class_split_of(d.dataset, d.data_root, rule))
