"""The restricted unpickler builds numpy arrays and plain data and refuses every other global before it runs."""

import io
import pickle
from collections import OrderedDict

import numpy as np
import pytest

from fewshot_nsl.core.safe_pickle import safe_load


class _CreatesFile:
    """Unpickles as ``open(marker, "w")``: a call that leaves a file behind if it ever runs."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", [pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL])
def test_numpy_arrays_and_plain_data_load(protocol):
    data = {"a": np.arange(12, dtype=np.uint8).reshape(3, 4), "b": [1, 2.5, "x", (None, True)],
            "c": OrderedDict(k=np.float32(1.5)), "d": np.array(["s", "t"])}
    back = safe_load(io.BytesIO(pickle.dumps(data, protocol=protocol)))
    assert np.array_equal(back["a"], data["a"]) and back["a"].dtype == np.uint8
    assert back["b"] == data["b"] and back["c"] == data["c"] and list(back["d"]) == ["s", "t"]


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_a_global_outside_the_allow_list_is_refused_and_never_runs(tmp_path, protocol):
    marker = tmp_path / "marker"
    blob = pickle.dumps({"image_data": _CreatesFile(marker)}, protocol=protocol)
    assert pickle.loads(blob) is not None and marker.exists()  # the payload works when unpickled plainly
    marker.unlink()
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load global (builtins|io)\.open"):
        safe_load(io.BytesIO(blob))
    assert not marker.exists()


def test_code_hidden_in_an_object_array_is_refused(tmp_path):
    marker = tmp_path / "marker"
    blob = pickle.dumps(np.array([_CreatesFile(marker)], dtype=object))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        safe_load(io.BytesIO(blob))
    assert not marker.exists()
