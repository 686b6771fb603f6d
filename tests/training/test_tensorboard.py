"""``train.tensorboard``: the metrics records as scalars in RUN_DIR/tensorboard/ (a fake SummaryWriter stands in
for the optional package), and a one-line refusal when the package is missing."""

import json
import sys
import types

import pytest

from fewshot_nsl.cli.main import main
from fewshot_nsl.experiments.train_run import train
from fewshot_nsl.runtime.config import resolve_config

TINY = ["data.dataset=synthetic", "train.episodes=6", "train.val_every=4", "train.val_episodes=2",
        "train.log_every=2", "task.shot=1", "task.query=2", "eval.shot=1", "eval.query=2", "train.progress=false",
        "train.threads=1"]


class FakeWriter:
    made = []

    def __init__(self, log_dir, purge_step=None):
        self.log_dir, self.purge_step, self.scalars, self.closed = log_dir, purge_step, [], False
        FakeWriter.made.append(self)

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))

    def close(self):
        self.closed = True


@pytest.fixture
def fake_tensorboard(monkeypatch):
    FakeWriter.made = []
    module = types.ModuleType("torch.utils.tensorboard")
    module.SummaryWriter = FakeWriter
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", module)
    return FakeWriter


def test_scalars_are_the_metrics_records(tmp_path, fake_tensorboard):
    out = tmp_path / "run"
    train(resolve_config("protonet", overrides=TINY + ["train.tensorboard=true"]), out)
    (writer,) = fake_tensorboard.made
    assert writer.log_dir == str(out / "tensorboard") and writer.purge_step is None and writer.closed
    expected = []
    for line in (out / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        for key, value in record.items():
            if key in ("step", "episode", "wall_s") or isinstance(value, bool):
                continue
            expected.append((f"val/{key[4:]}" if key.startswith("val_") else f"train/{key}", value,
                             record["episode"]))
    assert writer.scalars == expected
    assert {"train/loss", "train/accuracy", "train/lr", "val/accuracy", "val/ci95"} == {t for t, _, _ in expected}


def test_resumed_run_purges_the_events_after_its_checkpoint(tmp_path, fake_tensorboard):
    out = tmp_path / "run"
    train(resolve_config("protonet", overrides=TINY + ["train.episodes=4", "train.tensorboard=true"]), out)
    train(resolve_config("protonet", overrides=TINY + ["train.tensorboard=true"]), out)
    assert [w.purge_step for w in fake_tensorboard.made] == [None, 4]


def test_off_writes_nothing(tmp_path, fake_tensorboard):
    out = tmp_path / "run"
    train(resolve_config("protonet", overrides=TINY), out)
    assert fake_tensorboard.made == [] and not (out / "tensorboard").exists()


def test_missing_package_is_one_line_before_anything_is_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails as without the package
    out = tmp_path / "run"
    code = main(["train", "--method", "protonet", "--out", str(out), "--tensorboard", "--no-eval",
                 *[a for item in TINY for a in ("--set", item)]])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if " INFO " not in ln and ln.strip()]
    assert code == 2 and len(lines) == 1, err
    assert "train.tensorboard" in lines[0] and "tensorboard package is not installed" in lines[0]
    assert not out.exists()
