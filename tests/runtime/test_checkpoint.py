"""Checkpoints load with torch's restricted unpickler: a crafted file is refused and its payload never runs."""

import io
import random

import numpy as np
import pytest
import torch

from fewshot_nsl.core.errors import CheckpointError
from fewshot_nsl.runtime.checkpoint import load_checkpoint, save_checkpoint


class _CreatesFile:
    """Unpickles as ``open(marker, "w")``: a global that creates a file the moment it is called."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _state():
    return {"model": {"w": torch.arange(6.0).view(2, 3)}, "step": 7, "metrics": [{"loss": 0.5, "step": 7}],
            "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
            "config": {"task": {"way": 5}, "sizes": (1, 2)}, "best_accuracy": 0.25, "mean": [1.0, 2.0]}


def test_a_checkpoint_round_trips_through_the_safe_loader(tmp_path):
    state = _state()
    save_checkpoint(state, tmp_path / "c.pt")
    back = load_checkpoint(tmp_path / "c.pt")
    assert torch.equal(back["model"]["w"], state["model"]["w"]) and back["metrics"] == state["metrics"]
    np_state, got = state["rng"]["numpy"], back["rng"]["numpy"]
    assert got[0] == np_state[0] and np.array_equal(got[1], np_state[1]) and got[1].dtype == np.uint32
    assert got[2:] == np_state[2:] and back["rng"]["python"] == state["rng"]["python"]
    assert back["config"] == state["config"]
    np.random.set_state(got)  # the restored state is usable as is


@pytest.mark.parametrize("zipfile", [True, False], ids=["zip", "legacy"])
def test_a_checkpoint_that_calls_a_function_is_refused_and_never_runs(tmp_path, zipfile):
    marker, path = tmp_path / "marker", tmp_path / "evil.pt"
    buffer = io.BytesIO()
    torch.save({"model": {}, "payload": _CreatesFile(marker)}, buffer, _use_new_zipfile_serialization=zipfile)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message and "refused" in message
    assert not marker.exists()


def test_a_foreign_numpy_object_is_refused(tmp_path):
    path = tmp_path / "obj.pt"
    torch.save({"model": {}, "x": np.array([object()], dtype=object)}, path)
    with pytest.raises(CheckpointError, match=f"checkpoint {path} "):
        load_checkpoint(path)


def test_a_damaged_checkpoint_is_one_line_naming_it(tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match=f"checkpoint {path} cannot be read") as info:
        load_checkpoint(path)
    assert "\n" not in str(info.value)
