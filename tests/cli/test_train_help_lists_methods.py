"""``fewshot-nsl train --help`` lists the methods from the registry (a new method appears without a CLI edit)."""

import pytest

from fewshot_nsl.cli.main import main
from fewshot_nsl.methods import method_names


def test_train_help_lists_every_registered_method(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps the help text
    assert ", ".join(method_names()) in out
