"""Episode files: roundtrip, byte-identical determinism, refusal of files made for other data."""

import gzip
import json
import os
import stat

import numpy as np
import pytest

from fewshot_nsl.episodes.files import (
    SplitLabels,
    episode_file_name,
    episodes_fingerprint,
    make_episode_file,
    read_episode_file,
    standard_episode_file,
)
from fewshot_nsl.episodes.sampler import EpisodeSampler
from fewshot_nsl.core.errors import DataError


def split(dataset="toy", name="test", classes=8, per_class=25, prefix="img"):
    labels = np.repeat(np.arange(classes), per_class)
    names = [f"{prefix}{i:05d}.jpg" for i in range(len(labels))]
    return SplitLabels(labels=labels, class_names=[f"class{c}" for c in range(classes)], image_names=names,
                      dataset=dataset, split=name)


def test_roundtrip_gives_the_sampler_episodes(tmp_path):
    s = split()
    path = make_episode_file(s, way=5, shot=2, query=3, episodes=20, seed=7, path=tmp_path / "e.json.gz")
    ef = read_episode_file(path)
    assert (ef.dataset, ef.split, ef.way, ef.shot, ef.query, ef.episodes, ef.seed) == ("toy", "test", 5, 2, 3, 20, 7)
    sampler = EpisodeSampler(s.labels, 5, 2, 3, seed=7)
    for got, want in zip(ef.to_episodes(s), (sampler.episode(i) for i in range(20))):
        assert np.array_equal(got.classes, want.classes)
        assert np.array_equal(got.support, want.support)
        assert np.array_equal(got.query, want.query)
        assert (got.way, got.shot, got.n_query) == (5, 2, 3)
    # only the images used are in the names table, sorted
    assert ef.names == sorted(set(ef.names))


def test_mapping_by_name_survives_reordering(tmp_path):
    s = split()
    path = make_episode_file(s, 4, 1, 5, 10, 0, tmp_path / "e.json.gz")
    order = np.random.default_rng(0).permutation(len(s.labels))
    shuffled = SplitLabels(labels=s.labels[order], class_names=s.class_names,
                          image_names=[s.image_names[i] for i in order], dataset="toy", split="test")
    a = read_episode_file(path).to_episodes(s)
    b = read_episode_file(path).to_episodes(shuffled)
    assert episodes_fingerprint(s, a) == episodes_fingerprint(shuffled, b)
    for x, y in zip(a, b):
        assert [s.image_names[i] for i in x.support] == [shuffled.image_names[i] for i in y.support]


def test_files_are_byte_identical_across_runs(tmp_path):
    s = split()
    p1 = make_episode_file(s, 5, 5, 15, 30, 0, tmp_path / "a.json.gz")
    p2 = make_episode_file(s, 5, 5, 15, 30, 0, tmp_path / "b.json.gz")
    assert p1.read_bytes() == p2.read_bytes()
    p3 = make_episode_file(s, 5, 5, 15, 30, 1, tmp_path / "c.json.gz")
    assert p1.read_bytes() != p3.read_bytes()
    payload = json.loads(gzip.decompress(p1.read_bytes()))
    assert payload["format"] == "fewshot-nsl-episodes" and payload["version"] == 1


def test_refuses_a_file_made_for_another_split(tmp_path):
    path = make_episode_file(split(name="val", prefix="v"), 5, 1, 5, 10, 0, tmp_path / "e.json.gz")
    pattern = r"made for toy/val: \d+ of its .*images \(e\.g\. 'v\d+\.jpg'\) are not in toy/test"
    with pytest.raises(DataError, match=pattern):
        read_episode_file(path).to_episodes(split(name="test", prefix="t"))


def test_refuses_a_file_whose_labels_disagree(tmp_path):
    s = split()
    path = make_episode_file(s, 5, 1, 5, 10, 0, tmp_path / "e.json.gz")
    relabelled = SplitLabels(labels=np.roll(s.labels, 1), class_names=s.class_names, image_names=s.image_names,
                            dataset="toy", split="test")
    with pytest.raises(DataError, match="labels its images differently"):
        read_episode_file(path).to_episodes(relabelled)


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    (b"plain text", "not gzip"),
    (gzip.compress(b"{not json"), "does not hold JSON"),
    (gzip.compress(json.dumps({"format": "other"}).encode()), "is not a fewshot-nsl-episodes file"),
    (gzip.compress(json.dumps({"format": "fewshot-nsl-episodes", "version": 99}).encode()), "version 99"),
])
def test_read_errors_are_clear(tmp_path, content, message):
    path = tmp_path / "bad.json.gz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        read_episode_file(path)
    assert "\n" not in str(info.value)


def test_truncated_episode_is_refused(tmp_path):
    path = make_episode_file(split(), 5, 1, 5, 3, 0, tmp_path / "e.json.gz")
    payload = json.loads(gzip.decompress(path.read_bytes()))
    payload["episode_list"][1]["query"].pop()
    path.write_bytes(gzip.compress(json.dumps(payload).encode()))
    with pytest.raises(DataError, match="episode 1 is not a 5-way 1-shot 5-query task"):
        read_episode_file(path)


def test_standard_file_lookup_honours_the_environment(tmp_path, monkeypatch):
    name = episode_file_name("toy", "test", 5, 1, 15, 600, 0)
    assert name == "toy_test_5way1shot15query_600ep_seed0.json.gz"
    monkeypatch.setenv("FEWSHOT_NSL_EPISODES", str(tmp_path))
    assert standard_episode_file("toy", "test", 5, 1) is None
    (tmp_path / name).write_bytes(b"")
    assert standard_episode_file("toy", "test", 5, 1) == tmp_path / name


def test_written_file_is_shared_whatever_the_umask_and_leaves_no_temporary(tmp_path):
    old = os.umask(0o077)
    try:
        path = make_episode_file(split(), way=5, shot=1, query=2, episodes=3, seed=0, path=tmp_path / "e.json.gz")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["e.json.gz"]
