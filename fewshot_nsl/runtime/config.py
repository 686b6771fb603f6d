"""The typed run configuration: YAML files plus ``--set a.b=value`` overrides, validated against a schema.

Resolution order (later wins): schema defaults, the method's preset (``fewshot_nsl/configs/<method>.yaml``),
the user's ``--config`` file, CLI flags, ``--set`` overrides. The resolved config is saved in the run
directory and ``fewshot-nsl train --config RUN_DIR/config.yaml`` repeats the run.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from ..core.errors import ConfigError


#: settings that may change when a run is resumed (they do not change what is computed)
RESUMABLE_CHANGES = frozenset({
    "train.episodes", "train.device", "train.progress", "train.threads", "train.channels_last", "data.num_workers",
    "data.data_root", "data.cache_dir", "eval.episodes_file",
})


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


@dataclass
class TaskConfig:
    """Shape of the training episodes (training way may differ from test way)."""

    way: int = 5
    shot: int = 5
    query: int = 15


@dataclass
class ModelConfig:
    """Backbone and its neural-similarity options (NSL_SPEC §8.1)."""

    backbone: str = "cnn4"
    nsl: str = "none"
    param: str = "disjoint"
    learn_shape: bool = False
    plain_first_layer: bool = False
    dns_init: str = "identity"
    predictor_gamma: float = 1.0


@dataclass
class OptimConfig:
    """Optimiser and step schedule (ProtoNet: Adam 1e-3 halved every 2,000 episodes)."""

    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    lr_step: int = 2000
    lr_gamma: float = 0.5


@dataclass
class TrainConfig:
    """Budget, seeds and bookkeeping of a training run.

    ``episodes`` counts training episodes (for supervised methods: mini-batches); a step takes
    ``meta_batch`` episodes (per process), so the run has ``ceil(episodes / (meta_batch * world))`` steps.
    """

    episodes: int = 2000
    meta_batch: int = 1
    batch_size: int = 128
    seed: int = 0
    val_every: int = 500
    val_episodes: int = 100
    log_every: int = 50
    device: str = "auto"
    amp: bool = False
    threads: Optional[int] = None
    channels_last: Optional[bool] = None
    progress: bool = True


@dataclass
class EvalConfig:
    """The fixed evaluation episodes."""

    split: str = "test"
    way: int = 5
    shot: int = 5
    query: int = 15
    episodes: int = 600
    seed: int = 0
    episodes_file: Optional[str] = None


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

    @property
    def method_name(self) -> str:
        return str(self.method["name"])

    def method_options(self):
        """The method's own options dataclass, filled from ``method`` (validated)."""
        from ..methods import get_method

        cls = get_method(self.method_name).Options
        values = {k: v for k, v in self.method.items() if k != "name"}
        return _build(cls, values, "method")

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


# -- validation --------------------------------------------------------------------------------
def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(_type_name(a) for a in args) + " or null"
    return getattr(tp, "__name__", str(tp))


def _check_value(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _check_value(arg, value, key)
            except ConfigError:
                pass
        raise ConfigError(f"setting {key}: expected {_type_name(tp)}, got {value!r}")
    if origin in (dict, Dict):
        if not isinstance(value, dict):
            raise ConfigError(f"setting {key}: expected a mapping, got {value!r}")
        return value
    if origin in (list, List, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"setting {key}: expected a list, got {value!r}")
        return list(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"setting {key}: expected bool (true/false), got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"setting {key}: expected int, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"setting {key}: expected float, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"setting {key}: expected str, got {value!r}")
    return value


def _field_names(cls: Any, prefix: str) -> List[str]:
    names = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            names += _field_names(tp, f"{prefix}{f.name}.")
        else:
            names.append(f"{prefix}{f.name}")
    return names


def _unknown(key: str, valid: List[str]) -> ConfigError:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"unknown setting {key!r}{hint}")


def _build(cls: Any, values: Dict[str, Any], prefix: str) -> Any:
    """Instantiate dataclass ``cls`` from a (nested) dict, checking every key and type."""
    if not isinstance(values, dict):
        raise ConfigError(f"setting {prefix}: expected a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if key not in fields:
            valid = [f"{prefix}.{n}" if prefix else n for n in _field_names(cls, "")]
            raise _unknown(full, valid)
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            kwargs[key] = _build(tp, value, full)
        else:
            kwargs[key] = _check_value(tp, value, full)
    return cls(**kwargs)


def _merge(base: Dict[str, Any], update: Dict[str, Any]) -> Dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_override(text: str) -> Dict[str, Any]:
    """``"a.b=3"`` -> ``{"a": {"b": 3}}``; the value is read as YAML (numbers, true/false, null, strings)."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected key=value")
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key:
        raise ConfigError(f"--set {text!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    out: Dict[str, Any] = {}
    node = out
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def read_yaml(path: str | Path) -> Dict[str, Any]:
    """A YAML mapping from ``path``, with a clear error for a missing or malformed file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping, not {type(data).__name__}")
    return data


def preset_path(method: str) -> Path:
    return Path(__file__).resolve().parent.parent / "configs" / f"{method}.yaml"


def resolve_config(
    method: Optional[str] = None,
    config_file: Optional[str] = None,
    flags: Optional[Dict[str, Any]] = None,
    overrides: Optional[List[str]] = None,
) -> Config:
    """Defaults <- method preset <- ``config_file`` <- ``flags`` (nested dict) <- ``overrides`` (``a.b=v``)."""
    layers: List[Dict[str, Any]] = []
    user = read_yaml(config_file) if config_file else {}
    user_method = user.get("method") if isinstance(user.get("method"), dict) else {}
    name = method or user_method.get("name") or "protonet"
    preset = preset_path(name)
    if preset.exists():
        layers.append(read_yaml(preset))
    layers.append(user)
    if flags:
        layers.append(flags)
    for text in overrides or []:
        layers.append(parse_override(text))
    merged: Dict[str, Any] = {"method": {"name": name}}
    for layer in layers:
        merged = _merge(merged, layer)
    if method:
        merged["method"]["name"] = method
    config = _build(Config, merged, "")
    config.method_options()  # validate the method's own keys now
    validate_ranges(config)
    return config


def validate_ranges(config: Config) -> None:
    """Reject sizes that cannot make a run: zero or negative episodes, way, shot, query, ..."""
    checks = [
        ("task.way", config.task.way, 1), ("task.shot", config.task.shot, 1), ("task.query", config.task.query, 1),
        ("eval.way", config.eval.way, 1), ("eval.shot", config.eval.shot, 1), ("eval.query", config.eval.query, 1),
        ("eval.episodes", config.eval.episodes, 1), ("train.episodes", config.train.episodes, 1),
        ("train.meta_batch", config.train.meta_batch, 1), ("train.batch_size", config.train.batch_size, 1),
        ("train.val_every", config.train.val_every, 1), ("train.val_episodes", config.train.val_episodes, 1),
        ("train.log_every", config.train.log_every, 1), ("data.num_workers", config.data.num_workers, 0),
    ]
    for key, value, low in checks:
        if value < low:
            raise ConfigError(f"setting {key} must be >= {low}, got {value}")
    if config.data.image_size is not None and config.data.image_size < 8:
        raise ConfigError(f"setting data.image_size must be >= 8, got {config.data.image_size}")
    if config.optim.lr <= 0:
        raise ConfigError(f"setting optim.lr must be > 0, got {config.optim.lr}")
    if config.train.device not in ("auto", "cpu", "cuda") and not config.train.device.startswith("cuda:"):
        raise ConfigError(f"setting train.device must be auto, cpu or cuda, got {config.train.device!r}")


def flatten(d: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out: Dict[str, Any] = {}
    for k, v in d.items():
        out.update(flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def changed_settings(saved: Path, config: Config, allowed: frozenset = frozenset()) -> List[tuple]:
    """``(key, saved value, value in config)`` for every setting in which the config saved at ``saved`` differs
    from ``config``, ``allowed`` keys aside. The saved file is read through the schema, so a setting added to the
    schema after the run was made counts as its default."""
    old = flatten(_build(Config, read_yaml(saved), "").to_dict())
    new = flatten(config.to_dict())
    return [(key, old.get(key), new.get(key)) for key in sorted(set(old) | set(new))
            if key not in allowed and old.get(key) != new.get(key)]


def save_config(config: Config, path: Path) -> None:
    """Write the resolved config as YAML (atomically)."""
    from .checkpoint import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(config.to_dict(), sort_keys=False))
