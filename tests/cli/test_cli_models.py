"""``fewshot-nsl models``: the table of parameter counts and feature sizes."""

import pytest

from fewshot_nsl.cli.main import main
from fewshot_nsl.cli.models import VARIANTS, model_table


def test_models_table_at_84(capsys):
    assert main(["models", "--backbones", "cnn4", "cnn9"]) == 0
    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines()[2:]]
    assert len(lines) == 2 * len(VARIANTS)
    rows = {(r[0], r[1], r[2]): r for r in lines}
    assert rows[("cnn4", "none", "-")][3] == "112,832" and rows[("cnn4", "none", "-")][5] == "1600"
    assert rows[("cnn4", "static-uns", "-")][3] == "113,156"  # + 4 x 81
    assert rows[("cnn9", "dynamic-dns", "shared")][5] == "256"
    assert all(r[6] in ("64x5x5", "256x5x5") for r in lines)


def test_models_table_other_input_and_errors(capsys):
    rows = model_table(image_size=28, in_channels=1, names=["cnn4"])
    assert {r["feature_dim"] for r in rows} == {64}  # 28 -> 14 -> 7 -> 3 -> 1
    assert rows[0]["params"] == 1 * 64 * 9 + 3 * 64 * 64 * 9 + 4 * 128
    assert main(["models", "--image-size", "8", "--backbones", "cnn4"]) == 2
    assert "too small" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--learn-shape", "--plain-first-layer"])
def test_models_flags(capsys, flag):
    assert main(["models", "--backbones", "cnn4", flag]) == 0
    out = capsys.readouterr().out
    assert "static-uns" in out
