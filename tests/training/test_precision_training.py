"""Training in a reduced precision: what is saved, what stays fp32, and how a resume treats ``auto``."""

import pytest
import torch
import yaml

from fewshot_nsl.evaluation.evaluator import episode_accuracies
from fewshot_nsl.runtime.config import resolve_config
from fewshot_nsl.runtime.precision import resolve_precision
from fewshot_nsl.training.precision_choice import run_precision
from fewshot_nsl.training.trainer import Trainer

SETTINGS = ["data.dataset=synthetic", "data.image_size=16", "task.way=3", "task.shot=2", "task.query=2",
            "train.episodes=2", "train.val_every=2", "train.val_episodes=2", "train.log_every=1", "eval.way=3",
            "eval.shot=2", "eval.query=2", "train.progress=false", "train.threads=1", "train.device=cpu"]


def _trainer(tmp_path, method, precision, *extra):
    config = resolve_config(method, overrides=[*SETTINGS, f"train.precision={precision}", *extra])
    return Trainer(config, tmp_path / "run", validator=episode_accuracies)


@pytest.mark.parametrize("method, extra", [("protonet", ()), ("dynamic", ()), ("finetune", ("train.batch_size=8",
                                           "method.epochs=1"))])
def test_after_a_bf16_step_every_weight_buffer_and_optimiser_state_is_fp32(tmp_path, method, extra):
    trainer = _trainer(tmp_path, method, "bf16", *extra)
    assert trainer.precision == "bf16" and not trainer.scaler.is_enabled()  # bf16 needs no loss scaling
    stats = trainer._train_step(trainer._stream())
    assert torch.isfinite(torch.tensor(stats["loss"]))
    for name, tensor in [*trainer.method.named_parameters(), *trainer.method.named_buffers()]:
        if tensor.is_floating_point():
            assert tensor.dtype == torch.float32, name
    states = [t for s in trainer.optimizer.state.values() for t in s.values() if torch.is_tensor(t)]
    assert states and all(t.dtype == torch.float32 for t in states if t.is_floating_point())
    val = trainer.validate()
    assert isinstance(val["val_accuracy"], float) and 0.0 <= val["val_accuracy"] <= 1.0


def test_fp16_trains_with_an_enabled_grad_scaler(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="fewshot_nsl.training.trainer"):
        trainer = _trainer(tmp_path, "protonet", "fp16")
    assert "fp16 on a CPU trains hundreds of times slower" in caplog.text  # the run is honoured, and told why it crawls
    assert trainer.scaler.is_enabled()
    trainer._train_step(trainer._stream())
    assert all(p.dtype == torch.float32 for p in trainer.method.parameters())


def test_config_yaml_records_the_resolved_precision_never_auto(tmp_path):
    trainer = _trainer(tmp_path, "protonet", "auto")
    trainer.fit()
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["train"]["precision"]
    assert saved == resolve_precision("auto", "cpu") and saved in ("fp32", "bf16")


def test_resuming_auto_keeps_the_runs_precision_and_explicit_changes_are_refused(tmp_path):
    _trainer(tmp_path, "protonet", "fp32").fit()
    cpu = torch.device("cpu")
    config = resolve_config("protonet", overrides=[*SETTINGS, "train.precision=auto", "train.episodes=4"])
    # auto on resume: the precision the run was made with, whatever auto resolves to on this machine
    assert run_precision(config.train, cpu, tmp_path / "run" / "config.yaml") == "fp32"
    _trainer(tmp_path, "protonet", "auto", "train.episodes=4").fit()
    with pytest.raises(Exception, match="train.precision='fp32', not 'bf16'"):
        _trainer(tmp_path, "protonet", "bf16", "train.episodes=6").fit()


def test_deprecated_amp_means_fp16_on_cuda_only(tmp_path):
    config = resolve_config("protonet", overrides=[*SETTINGS, "train.amp=true"])
    assert run_precision(config.train, torch.device("cpu")) == "fp32"  # as before: amp did nothing on CPU
    assert run_precision(config.train, torch.device("cuda")) == "fp16"
    pinned = resolve_config("protonet", overrides=[*SETTINGS, "train.amp=true", "train.precision=bf16"])
    assert run_precision(pinned.train, torch.device("cpu")) == "bf16"  # an explicit precision wins
