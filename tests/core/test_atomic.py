"""The one atomic writer: whole new file or the old one, no temporary left behind, the usual permissions."""

import os
import stat

import pytest

from fewshot_nsl.core.atomic import atomic_write_bytes, atomic_write_text, replacing


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_text_and_bytes_land_whole_with_umask_permissions(tmp_path, umask_022):
    atomic_write_text(tmp_path / "sub" / "a.txt", "héllo")
    atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "sub" / "a.txt").read_text() == "héllo" and (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert _mode(tmp_path / "sub" / "a.txt") == 0o644 and _mode(tmp_path / "b.bin") == 0o644
    os.umask(0o077)
    atomic_write_text(tmp_path / "private.txt", "x")
    assert _mode(tmp_path / "private.txt") == 0o600


def test_an_explicit_mode_ignores_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        atomic_write_bytes(tmp_path / "shared.bin", b"x", mode=0o644)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "shared.bin") == 0o644


def test_a_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "t.txt"
    atomic_write_text(target, "old")
    with pytest.raises(KeyboardInterrupt):
        with replacing(target) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["t.txt"]


def test_replacing_yields_a_hidden_file_beside_the_target(tmp_path):
    with replacing(tmp_path / "t.npy") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".t.npy.") and tmp.exists()
        tmp.write_bytes(b"data")
    assert (tmp_path / "t.npy").read_bytes() == b"data" and not tmp.exists()
