"""The run configuration's schema: one dataclass per section, with the defaults every preset starts from.

A YAML config (or a ``--set`` override) names settings as ``<section>.<field>``; :mod:`.resolve` reads them into
these types through :func:`..core.typed.from_dict`, so an unknown key, a wrong type or a value outside a
``Literal``'s choices is refused when the config is read, before any data is decoded.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Optional, Union

from ..core.errors import ConfigError
from ..core.typed import from_dict
from ..data import DATASETS, ClassSplit
from ..data.class_split import parse_ratios
from ..layers.options import NSOptions
from ..methods import MethodOptions, get_method

__all__ = ["LEGACY_PRECISION", "Config", "DataConfig", "EvalConfig", "ModelConfig", "OptimConfig", "TaskConfig",
           "TrainConfig", "upgrade_saved"]


@dataclass
class DataConfig:
    """Where the images come from and how they are prepared."""

    dataset: str = "synthetic"
    data_root: Optional[str] = None
    image_size: Optional[int] = None
    train_split: str = "train"
    val_split: str = "val"
    augment: bool = True
    cache_dir: Optional[str] = None
    num_workers: int = 0
    #: class-disjoint train/val/test of a plain class-folder dataset (no split files): the (train, val, test)
    #: fractions of its classes, "0.64,0.16,0.20" or [0.64, 0.16, 0.2]; kept as three floats; the rule is in
    #: data/class_split.py. None: the dataset's own splits.
    class_split: Union[str, List[float], None] = None
    class_split_seed: int = 0
    #: the training augmentation recipe (data.transforms.AUGMENTATIONS): ``fewshot``, or ``cifar`` (NSL_SPEC §6)
    augmentation: Literal["fewshot", "cifar"] = "fewshot"

    def __post_init__(self) -> None:
        # checked when the config is read, so a bad value fails before any data is touched
        if self.class_split is not None:
            self.class_split = list(parse_ratios(self.class_split))
            if self.dataset in DATASETS and DATASETS.get(self.dataset).class_split is None:
                raise ConfigError(f"setting data.class_split: dataset {self.dataset!r} has splits of its own "
                                  "(only a folder dataset of plain class folders is split by class_split)")

    def class_split_rule(self) -> Optional[ClassSplit]:
        """The :class:`~fewshot_nsl.data.ClassSplit` that ``load_split`` takes; None without ``class_split``."""
        return ClassSplit.from_setting(self.class_split, self.class_split_seed)


@dataclass
class TaskConfig:
    """Shape of the training episodes (training way may differ from test way)."""

    way: int = 5
    shot: int = 5
    query: int = 15


@dataclass(frozen=True)
class _BackboneChoice:
    backbone: str = "cnn4"


@dataclass(frozen=True)
class ModelConfig(NSOptions, _BackboneChoice):
    """Backbone and its neural-similarity options (NSL_SPEC §8.1): ``backbone`` plus the fields of
    :class:`NSOptions` (``nsl``, ``param``, ``learn_shape``, ``plain_first_layer``, ``dns_init``,
    ``predictor_gamma``, ``predictor``, ``predictor_hidden``, ``route``, ``shape_mode``, ``shape_l1``,
    ``m_l2``), defined there once and validated there, plus ``width``. ``.ns`` is the plain :class:`NSOptions`.

    ``width`` is the backbone's base channel count (64; Finn et al.'s MAML used 32): every block of ``cnn4`` and
    ``cnn4-np``, and the stem and first stage of ``cnn9``, whose stages are width x (1, 2, 4).

    The backbone comes from a second base only so that it is the first field (a dataclass lists the fields of its
    last base first), which keeps saved ``config.yaml`` files in the order they have always had; ``width`` is
    declared here, so it comes last.
    """

    width: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.width < 1:
            raise ConfigError(f"model.width must be a positive channel count, got {self.width}")


@dataclass
class OptimConfig:
    """Optimiser and step schedule (ProtoNet: Adam 1e-3 halved every 2,000 episodes).

    ``lr_milestones`` (training episodes, increasing): multiply the rate by ``lr_gamma`` at each (a multi-step
    schedule, e.g. the CIFAR recipe's 20,000 / 30,000 / 37,500); None: every ``lr_step`` episodes.
    """

    optimizer: Literal["adam", "sgd"] = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    lr_step: int = 2000
    lr_gamma: float = 0.5
    lr_milestones: Optional[List[int]] = None


@dataclass
class TrainConfig:
    """Budget, seeds and bookkeeping of a training run.

    ``episodes`` counts training episodes (for supervised methods: mini-batches); a step takes
    ``meta_batch`` episodes (per process), so the run has ``ceil(episodes / (meta_batch * world))`` steps.
    ``device`` is ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (checked in :func:`.resolve.validate_ranges`).
    ``checkpoint_every_episodes`` / ``checkpoint_every_minutes`` write ``checkpoints/last.pt`` at least that often
    (whichever comes first; None: never by that measure), besides every validation; ``tensorboard`` also writes
    the ``metrics.jsonl`` records as TensorBoard scalars into ``RUN_DIR/tensorboard/``.
    ``precision`` is the compute precision (:mod:`.precision`): ``auto`` becomes bf16 where the hardware runs it
    natively, else fp32; the trainer saves the resolved name in ``config.yaml``. ``amp`` is the deprecated
    switch of earlier versions (fp16 autocast on CUDA), kept so that their ``config.yaml`` files still load:
    with ``precision: auto`` it still means fp16 on CUDA and nothing elsewhere.
    """

    episodes: int = 2000
    meta_batch: int = 1
    batch_size: int = 128
    seed: int = 0
    val_every: int = 500
    val_episodes: int = 100
    log_every: int = 50
    device: str = "auto"
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    amp: bool = False
    threads: Optional[int] = None
    channels_last: Optional[bool] = None
    progress: bool = True
    checkpoint_every_episodes: Optional[int] = None
    checkpoint_every_minutes: Optional[float] = 2.0
    tensorboard: bool = False


#: the precision a run saved before ``train.precision`` existed computed in: fp32, or fp16 with ``amp`` (earlier
#: versions honoured ``amp`` on CUDA only; a CPU run with ``amp: true`` resumed today computes in fp16)
LEGACY_PRECISION = {False: "fp32", True: "fp16"}


def upgrade_saved(values: Dict[str, Any]) -> Dict[str, Any]:
    """A saved config (``config.yaml``, a checkpoint's ``config``) with ``train.precision`` filled in when it was
    written before that setting existed, so that it reads as what it ran rather than as today's default."""
    train = values.get("train")
    if not isinstance(train, dict) or "precision" in train:
        return values
    return {**values, "train": {**train, "precision": LEGACY_PRECISION[bool(train.get("amp", False))]}}


@dataclass
class EvalConfig:
    """The fixed evaluation episodes. ``skip_if_missing``: train even when ``split`` is missing, skipping the
    final evaluation (with one logged line) instead of refusing the run before its first step."""

    split: str = "test"
    way: int = 5
    shot: int = 5
    query: int = 15
    episodes: int = 600
    seed: int = 0
    episodes_file: Optional[str] = None
    skip_if_missing: bool = False


@dataclass
class Config:
    """A whole run. ``method`` is ``{"name": ..., <that method's options>}``."""

    method: Dict[str, Any] = field(default_factory=lambda: {"name": "protonet"})
    data: DataConfig = field(default_factory=DataConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    @classmethod
    def from_values(cls, values: Dict[str, Any]) -> Config:
        """The config that the nested mapping ``values`` describes (checked key by key), with every option of
        its method filled in (a preset states only the options that differ from the method's defaults, while a
        saved config.yaml holds them all)."""
        config = from_dict(cls, values, "")
        config.method = {"name": config.method_name, **dataclasses.asdict(config.method_options())}
        return config

    @property
    def method_name(self) -> str:
        return str(self.method["name"])

    def method_options(self) -> MethodOptions:
        """The method's own options dataclass, filled from ``method`` (validated)."""
        cls = get_method(self.method_name).Options
        return from_dict(cls, {k: v for k, v in self.method.items() if k != "name"}, "method")

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)
