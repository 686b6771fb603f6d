"""The committed standard episode files: they fit the real data and regenerate byte for byte."""

import pathlib

import pytest

from fewshot_nsl.episodes.files import STANDARD_DIR, SplitLabels, build_episode_file, episode_dirs, read_episode_file
from fewshot_nsl.core.errors import DataError

#: committed inside the package (package data), so that an installed wheel finds them too (tests/test_wheel.py)
EPISODES = pathlib.Path(__file__).resolve().parents[2] / "fewshot_nsl" / "episodes" / "standard_files"
FILES = sorted(EPISODES.glob("*.json.gz"))


def test_the_standard_set_is_complete_and_small():
    names = {f.name for f in FILES}
    for split in ("val", "test"):
        for shot in (1, 5):
            assert f"mini-imagenet_{split}_5way{shot}shot15query_600ep_seed0.json.gz" in names
    for way in (5, 20):
        for shot in (1, 5):
            assert f"omniglot_test_{way}way{shot}shot15query_600ep_seed0.json.gz" in names
    assert sum(f.stat().st_size for f in FILES) < 5 * 2**20
    assert EPISODES == STANDARD_DIR and EPISODES in episode_dirs()
    readme = (EPISODES / "README.md").read_text()
    assert all(f.name in readme for f in FILES)


@pytest.mark.realdata
@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_standard_file_fits_the_data_and_regenerates(real_data_root, path):
    ef = read_episode_file(path)
    root = real_data_root(ef.dataset)  # Omniglot: the packaged copy when the real one is absent
    labels = SplitLabels.read(ef.dataset, ef.split, str(root))
    episodes = ef.to_episodes(labels)
    assert len(episodes) == ef.episodes == 600
    again = build_episode_file(labels, ef.way, ef.shot, ef.query, ef.episodes, ef.seed)
    assert (again.names, again.classes, again.episode_list) == (ef.names, ef.classes, ef.episode_list)


@pytest.mark.realdata
def test_val_file_is_refused_on_the_test_split(shared_data):
    root = shared_data / "mini-imagenet"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    ef = read_episode_file(EPISODES / "mini-imagenet_val_5way5shot15query_600ep_seed0.json.gz")
    with pytest.raises(DataError, match=r"made for mini-imagenet/val: \d+ of its .* not in mini-imagenet/test"):
        ef.to_episodes(SplitLabels.read("mini-imagenet", "test", str(root)))
