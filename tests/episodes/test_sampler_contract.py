"""The sampler's contract: exact counts, disjoint support/query, labels, determinism, independence of global RNG."""

import numpy as np
import pytest

from fewshot_nsl.episodes import EpisodeSampler
from fewshot_nsl.core.errors import DataError


def _labels(classes=12, per_class=30):
    rng = np.random.default_rng(123)
    labels = np.repeat(np.arange(classes), per_class)
    return labels[rng.permutation(len(labels))]


def test_counts_labels_and_disjointness():
    labels = _labels()
    sampler = EpisodeSampler(labels, way=5, shot=3, query=7, seed=1)
    for i in range(50):
        ep = sampler.episode(i)
        assert len(ep.classes) == 5 and len(set(ep.classes.tolist())) == 5
        assert ep.support.shape == (15,) and ep.query.shape == (35,)
        assert not set(ep.support.tolist()) & set(ep.query.tolist())
        # class-major order: every support/query image belongs to the class its episode label names
        assert np.array_equal(labels[ep.support], ep.classes[ep.support_labels])
        assert np.array_equal(labels[ep.query], ep.classes[ep.query_labels])
        assert len(set(ep.support.tolist()) | set(ep.query.tolist())) == 50


def test_episode_depends_only_on_seed_and_index():
    labels = _labels()
    a = EpisodeSampler(labels, 5, 5, 15, seed=7)
    np.random.seed(0)
    first = [a.episode(i) for i in (3, 0, 99)]
    np.random.seed(12345)  # the global RNG must not matter
    b = EpisodeSampler(labels, 5, 5, 15, seed=7)
    again = [b.episode(i) for i in (3, 0, 99)]
    for x, y in zip(first, again):
        assert np.array_equal(x.support, y.support) and np.array_equal(x.query, y.query)
        assert np.array_equal(x.classes, y.classes)
    # a different seed or index gives a different episode
    c = EpisodeSampler(labels, 5, 5, 15, seed=8)
    assert not np.array_equal(c.episode(3).support, first[0].support)
    assert not np.array_equal(a.episode(4).support, first[0].support)


def test_classes_and_images_are_shuffled():
    labels = np.repeat(np.arange(10), 20)  # sorted labels: an unshuffled sampler would show it
    sampler = EpisodeSampler(labels, 5, 5, 5, seed=0)
    class_orders = {tuple(sampler.episode(i).classes) for i in range(30)}
    assert len(class_orders) == 30
    assert any(not np.all(np.diff(sampler.episode(i).classes) > 0) for i in range(30))
    firsts = {int(sampler.episode(i).support[0]) for i in range(30)}
    assert len(firsts) > 10


def test_every_class_and_image_gets_used():
    labels = _labels(classes=8, per_class=20)
    sampler = EpisodeSampler(labels, 4, 2, 3, seed=0)
    seen = np.zeros(len(labels), dtype=bool)
    for i in range(400):
        ep = sampler.episode(i)
        seen[ep.support] = True
        seen[ep.query] = True
    assert seen.all()


@pytest.mark.parametrize("kwargs, message", [
    (dict(way=13, shot=1, query=1), "way 13 is larger than the 12 classes"),
    (dict(way=5, shot=20, query=15), r"fewer than shot \+ query = 35"),
    (dict(way=0, shot=1, query=1), "way must be an integer >= 1"),
    (dict(way=5, shot=-1, query=1), "shot must be an integer >= 1"),
])
def test_impossible_episodes_are_refused_with_the_reason(kwargs, message):
    names = [f"class{i}" for i in range(12)]
    with pytest.raises(DataError, match=message):
        EpisodeSampler(_labels(), seed=0, class_names=names, **kwargs)


def test_small_class_is_named():
    labels = np.array([0] * 30 + [1] * 4 + [2] * 30)
    with pytest.raises(DataError, match="class 'tiny' .* has 4 images"):
        EpisodeSampler(labels, 2, 2, 3, class_names=["a", "tiny", "c"], where="toy/train")
