"""The typed run configuration, in one import: schema, resolution, saving and comparison of saved runs.

Where each part lives: the dataclasses in :mod:`.schema`, reading YAML (numbers such as ``5e-4`` as numbers) in
:mod:`.yaml_io`, presets/``--config``/flags/``--set`` in :mod:`.resolve`, and which settings a resumed run may
change in :mod:`.settings_diff`. The generic typed builder is :mod:`..core.typed`.
"""

from __future__ import annotations

from ..core.typed import flatten
from .resolve import parse_override, preset_path, resolve_config, save_config, validate_ranges
from .schema import Config, DataConfig, EvalConfig, ModelConfig, OptimConfig, TaskConfig, TrainConfig
from .settings_diff import RESUMABLE_CHANGES, changed_settings
from .yaml_io import load_yaml, read_yaml

__all__ = [
    "RESUMABLE_CHANGES", "Config", "DataConfig", "EvalConfig", "ModelConfig", "OptimConfig", "TaskConfig",
    "TrainConfig", "changed_settings", "flatten", "load_yaml", "parse_override", "preset_path", "read_yaml",
    "resolve_config", "save_config", "validate_ranges",
]
