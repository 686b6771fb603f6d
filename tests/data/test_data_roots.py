"""resolve_root: explicit root wins, else $FEWSHOT_NSL_DATA/<dataset>, else one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from fewshot_nsl.data.roots import resolve_root
from fewshot_nsl.core.errors import DataError


def test_explicit_root_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "env" / "mini-imagenet"
    other.mkdir(parents=True)
    monkeypatch.setenv("FEWSHOT_NSL_DATA", str(tmp_path / "env"))
    mine = tmp_path / "mine"
    mine.mkdir()
    assert resolve_root("mini-imagenet", str(mine)) == mine


def test_explicit_parent_folder_descends_into_dataset(tmp_path: Path) -> None:
    (tmp_path / "omniglot").mkdir()
    assert resolve_root("omniglot", str(tmp_path)) == tmp_path / "omniglot"


def test_folder_dataset_with_a_class_named_like_the_dataset_is_not_descended(tmp_path: Path) -> None:
    for name in ("folder", "cat"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.png").write_bytes(b"")
    assert resolve_root("folder", str(tmp_path)) == tmp_path


def test_missing_explicit_root_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nowhere.*does not exist"):
        resolve_root("mini-imagenet", str(tmp_path / "nowhere"))


def test_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "omniglot").mkdir()
    monkeypatch.setenv("FEWSHOT_NSL_DATA", str(tmp_path))
    assert resolve_root("omniglot", None) == tmp_path / "omniglot"


def test_environment_without_dataset_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEWSHOT_NSL_DATA", str(tmp_path))
    with pytest.raises(DataError, match="holds no mini-imagenet/"):
        resolve_root("mini-imagenet", None)


def test_nothing_given_explains_both_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEWSHOT_NSL_DATA", raising=False)
    with pytest.raises(DataError) as info:
        resolve_root("mini-imagenet", None)  # (omniglot falls back to the packaged copy)
    message = str(info.value)
    assert "--data-root" in message and "FEWSHOT_NSL_DATA" in message and "\n" not in message
