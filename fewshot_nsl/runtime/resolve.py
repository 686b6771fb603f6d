"""Resolve a run's config: schema defaults <- the method's preset <- ``--config`` file <- CLI flags <- ``--set``.

Later layers win. A preset (``fewshot_nsl/configs/<method>.yaml``) states only what its method's recipe changes
from the schema defaults (:mod:`.schema`). The resolved config is saved whole in the run directory, and
``fewshot-nsl train --config RUN_DIR/config.yaml`` repeats the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from ..core.atomic import atomic_write_text
from ..core.errors import ConfigError
from ..core.typed import merge
from .schema import Config
from .yaml_io import dump_yaml, load_yaml, read_yaml

__all__ = ["parse_override", "preset_path", "resolve_config", "save_config", "validate_ranges"]


def parse_override(text: str) -> Dict[str, Any]:
    """``"a.b=3"`` -> ``{"a": {"b": 3}}``; the value is read as YAML (numbers such as ``5e-4``, true/false, null,
    strings)."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected key=value")
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key:
        raise ConfigError(f"--set {text!r}: empty key")
    try:
        value = load_yaml(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    out: Dict[str, Any] = {}
    node = out
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def preset_path(method: str) -> Path:
    """The preset file of ``method`` (it may not exist: a user's method needs none)."""
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
        merged = merge(merged, layer)
    if method:
        merged["method"]["name"] = method
    config = Config.from_values(merged)  # checks the method's own keys too
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
    every, minutes = config.train.checkpoint_every_episodes, config.train.checkpoint_every_minutes
    if every is not None and every < 1:
        raise ConfigError(f"setting train.checkpoint_every_episodes must be >= 1 or null, got {every}")
    if minutes is not None and not 0 < minutes < float("inf"):
        raise ConfigError(f"setting train.checkpoint_every_minutes must be > 0 or null, got {minutes}")
    if config.train.device not in ("auto", "cpu", "cuda") and not config.train.device.startswith("cuda:"):
        raise ConfigError(f"setting train.device must be auto, cpu or cuda, got {config.train.device!r}")


def save_config(config: Config, path: Path) -> None:
    """Write the whole resolved config as YAML (atomically)."""
    atomic_write_text(path, dump_yaml(config.to_dict()))
