"""``data.class_split``: a plain class-folder dataset split class-disjoint into train/val/test by ratios and a seed,
the same split every time, recorded in the run directory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fewshot_nsl.core.errors import ConfigError, DataError
from fewshot_nsl.data import ClassSplit, class_split_of, load_split, split_index
from fewshot_nsl.data.class_split import parse_ratios, split_classes
from fewshot_nsl.runtime.config import resolve_config

NAMES = [f"c{i:02d}" for i in range(25)]


def write_classes(root: Path, classes: int, per_class: int = 2, size: int = 16) -> Path:
    for c in range(classes):
        (root / f"c{c:02d}").mkdir(parents=True, exist_ok=True)
        for k in range(per_class):
            Image.fromarray(np.full((size, size, 3), 8 * c + k, np.uint8)).save(root / f"c{c:02d}" / f"{k}.png")
    return root


def test_ratios_parse_from_text_or_a_list_and_bad_ones_are_one_line() -> None:
    assert parse_ratios("0.64,0.16,0.20") == (0.64, 0.16, 0.2) == parse_ratios([0.64, 0.16, 0.2])
    assert parse_ratios([1, 0, 0]) == (1.0, 0.0, 0.0)
    for bad, why in [("0.5,0.5", "three numbers"), ("a,b,c", "three numbers"), ([0.5, 0.5, 0.1, -0.1], "three"),
                     ("0.5,0.6,-0.1", "non-negative and sum to 1"), ("0.5,0.3,0.3", r"sum 1\.1"),
                     ([True, 0, 0], "three numbers"), ("nan,0.5,0.5", "three numbers")]:
        with pytest.raises(ConfigError, match=f"setting data.class_split: .*{why}") as info:
            parse_ratios(bad)
        assert "\n" not in str(info.value)


def test_the_rule_floor_for_val_and_test_the_rest_to_train() -> None:
    split = split_classes(NAMES, ClassSplit((0.64, 0.16, 0.2)), "x")
    assert [len(split[s]) for s in ("train", "val", "test")] == [16, 4, 5]  # floor(4.0), floor(5.0), 25 - 9
    assert sorted(sum(split.values(), [])) == NAMES  # disjoint and covering
    assert all(split[s] == sorted(split[s]) for s in split)
    # 0.29 * 100 is 28.999999999999996 in floats: the slack keeps it 29
    hundred = split_classes([f"k{i:03d}" for i in range(100)], ClassSplit((0.42, 0.29, 0.29)), "x")
    assert [len(hundred[s]) for s in ("train", "val", "test")] == [42, 29, 29]


def test_the_split_is_the_sorted_classes_shuffled_by_the_seed() -> None:
    rule = ClassSplit((0.6, 0.2, 0.2), seed=3)
    order = [NAMES[i] for i in np.random.default_rng(3).permutation(len(NAMES))]
    split = split_classes(list(reversed(NAMES)), rule, "x")  # the order given does not matter
    assert split == {"train": sorted(order[:15]), "val": sorted(order[15:20]), "test": sorted(order[20:])}
    assert split == split_classes(NAMES, rule, "x")
    assert split != split_classes(NAMES, ClassSplit((0.6, 0.2, 0.2), seed=4), "x")


def test_too_few_classes_name_the_dataset_and_the_ratios() -> None:
    with pytest.raises(DataError, match=r"folder dataset D: class_split 0\.64,0\.16,0\.2 \(seed 0\) of its 4 "
                                        r"classes gives split 'val' no class"):
        split_classes(NAMES[:4], ClassSplit((0.64, 0.16, 0.2)), "folder dataset D")
    assert split_classes(NAMES[:4], ClassSplit((0.5, 0.5, 0.0)), "x")["test"] == []  # a zero ratio: no class


def test_a_plain_class_folder_is_split_class_disjoint(tmp_path: Path) -> None:
    root = write_classes(tmp_path / "mine", 10)
    rule = ClassSplit((0.6, 0.2, 0.2), seed=1)
    sets = {s: load_split("folder", s, str(root), image_size=16, class_split=rule) for s in ("train", "val", "test")}
    assert [len(sets[s].class_names) for s in ("train", "val", "test")] == [6, 2, 2]
    assert sorted(sum((sets[s].class_names for s in sets), [])) == [f"c{i:02d}" for i in range(10)]
    assert {s: sets[s].class_names for s in sets} == class_split_of("folder", str(root), rule)
    for s, images in sets.items():  # each split holds its classes' images, decoded
        assert all(name.split("/")[0] in images.class_names for name in images.image_names)
        assert images.images[:, 0, 0, 0].tolist() == [8 * int(n[1:3]) + int(n[4]) for n in images.image_names]
    again = split_index("folder", "val", str(root), class_split=rule)
    assert again.class_names == sets["val"].class_names and again.names == sets["val"].image_names
    assert load_split("folder", "all", str(root), image_size=16, class_split=rule).num_classes == 10
    with pytest.raises(DataError, match=r"has splits train, val, test and all, not 'trainval'"):
        load_split("folder", "trainval", str(root), image_size=16, class_split=rule)


def test_a_folder_with_splits_of_its_own_refuses_a_class_split(tmp_path: Path) -> None:
    write_classes(tmp_path / "train", 3)
    write_classes(tmp_path / "val", 3)
    with pytest.raises(DataError, match=r"already has splits \(train, val\): data.class_split applies only"):
        load_split("folder", "train", str(tmp_path), image_size=16, class_split=ClassSplit((0.6, 0.2, 0.2)))
    csv = write_classes(tmp_path / "csv", 5)
    (csv / "train.csv").write_text("filename,label\nc00/0.png,c00\n")
    with pytest.raises(DataError, match=r"already has splits \(train\)"):
        load_split("folder", "test", str(csv), image_size=16, class_split=ClassSplit((0.6, 0.2, 0.2)))


def test_the_config_reads_checks_and_keeps_the_ratios() -> None:
    config = resolve_config("protonet", overrides=["data.dataset=folder", "data.class_split=0.64,0.16,0.20",
                                                   "data.class_split_seed=7"])
    assert config.data.class_split == [0.64, 0.16, 0.2]
    assert config.data.class_split_rule() == ClassSplit((0.64, 0.16, 0.2), 7)
    assert resolve_config("protonet").data.class_split_rule() is None
    with pytest.raises(ConfigError, match=r"setting data.class_split: .*sum to 1"):
        resolve_config("protonet", overrides=["data.dataset=folder", "data.class_split=0.5,0.5,0.5"])
    with pytest.raises(ConfigError, match=r"setting data.class_split: dataset 'omniglot' has splits of its own"):
        resolve_config("protonet", overrides=["data.dataset=omniglot", "data.class_split=[0.6, 0.2, 0.2]"])
    with pytest.raises(ConfigError, match=r"dataset 'synthetic' has splits of its own"):
        load_split("synthetic", "train", class_split=ClassSplit((0.6, 0.2, 0.2)))


@pytest.mark.slow
def test_training_records_the_split_and_a_rerun_gives_the_same(tmp_path: Path) -> None:
    from fewshot_nsl.experiments.train_run import train

    root = write_classes(tmp_path / "mine", 15, per_class=4)
    overrides = ["data.dataset=folder", f"data.data_root={root}", "data.image_size=16", "data.augment=false",
                 "data.class_split=0.6,0.2,0.2", "data.class_split_seed=5", "data.cache_dir=" + str(tmp_path / "c"),
                 "task.way=3", "task.shot=1", "task.query=2", "eval.way=3", "eval.shot=1", "eval.query=2",
                 "train.episodes=2", "train.val_every=2", "train.val_episodes=2", "train.log_every=1",
                 "train.progress=false", "train.threads=1", "train.device=cpu"]
    config = resolve_config("protonet", overrides=overrides)
    first, second = tmp_path / "run1", tmp_path / "run2"
    train(config, first)
    record = json.loads((first / "class_split.json").read_text())
    expected = split_classes([f"c{i:02d}" for i in range(15)], ClassSplit((0.6, 0.2, 0.2), 5), "x")
    assert record["classes"] == expected and record["ratios"] == [0.6, 0.2, 0.2] and record["seed"] == 5
    before = (first / "class_split.json").stat().st_mtime_ns
    train(config, first)  # a finished run: the record stays as it is
    assert (first / "class_split.json").stat().st_mtime_ns == before
    train(resolve_config("protonet", overrides=overrides), second)
    assert (second / "class_split.json").read_text() == (first / "class_split.json").read_text()
