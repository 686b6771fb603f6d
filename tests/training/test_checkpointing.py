"""Periodic checkpoints: the schedule, and writing one draws no random number (so it cannot change a run)."""

import random

import numpy as np
import pytest
import torch

from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.runtime.config import resolve_config
from fewshot_nsl.training.checkpointing import CheckpointSchedule
from fewshot_nsl.training.trainer import Trainer


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_episode_schedule_fires_when_a_multiple_is_crossed():
    s = CheckpointSchedule(every_episodes=4, every_minutes=None)
    assert [seen for seen in range(1, 13) if s.due(seen - 1, seen)] == [4, 8, 12]
    assert CheckpointSchedule(4, None).due(2, 6)  # a step of several episodes crossing a multiple


def test_time_schedule_counts_from_the_last_save():
    clock = FakeClock()
    s = CheckpointSchedule(every_episodes=None, every_minutes=2.0, clock=clock)
    clock.now += 119
    assert not s.due(0, 1)
    clock.now += 1
    assert s.due(1, 2)
    s.saved()  # e.g. a validation wrote one
    clock.now += 60
    assert not s.due(2, 3)


def test_no_schedule_never_fires():
    s = CheckpointSchedule(None, None)
    assert not any(s.due(i, i + 1) for i in range(100))


@pytest.mark.parametrize("override, needle", [
    ("train.checkpoint_every_episodes=0", "train.checkpoint_every_episodes must be >= 1"),
    ("train.checkpoint_every_minutes=0", "train.checkpoint_every_minutes must be > 0"),
    ("train.checkpoint_every_minutes=-1.5", "train.checkpoint_every_minutes must be > 0"),
    ("train.checkpoint_every_minutes=2min", "train.checkpoint_every_minutes: expected"),
    ("train.checkpoint_every_episodes=1e3", "train.checkpoint_every_episodes: expected"),
])
def test_bad_schedules_are_refused_when_the_config_is_read(override, needle):
    with pytest.raises(ConfigError, match=needle):
        resolve_config("protonet", overrides=["data.dataset=synthetic", override])


def test_default_is_every_two_minutes():
    c = resolve_config("protonet", overrides=["data.dataset=synthetic"]).train
    assert (c.checkpoint_every_episodes, c.checkpoint_every_minutes) == (None, 2.0)


def test_writing_a_checkpoint_draws_no_random_number(tmp_path):
    config = resolve_config("protonet", overrides=[
        "data.dataset=synthetic", "train.episodes=2", "train.val_episodes=2", "task.shot=1", "task.query=2",
        "train.progress=false", "train.threads=1"])
    trainer = Trainer(config, tmp_path / "run", validator=lambda *a: np.zeros(1))
    before = (torch.get_rng_state().clone(), np.random.get_state(), random.getstate())
    trainer._save(best=True)
    trainer._state()
    after = (torch.get_rng_state(), np.random.get_state(), random.getstate())
    assert torch.equal(before[0], after[0])
    assert all(np.array_equal(a, b) for a, b in zip(before[1], after[1]))
    assert before[2] == after[2]
    assert (tmp_path / "run" / "checkpoints" / "last.pt").exists()
