"""The bad-input catalogue: each case ends in exit status 2 and ONE line naming the culprit, no traceback,
and an existing run directory is left exactly as it was."""

import hashlib
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from fewshot_nsl.cli.main import main

FAST = ["--episodes", "2", "--val-every", "2", "--val-episodes", "2", "--no-progress", "--no-eval"]


def _ravi(root, classes=6, per_class=25, size=84):
    """A tiny Mini-ImageNet in the Ravi layout: images/*.jpg + train/val/test CSVs."""
    (root / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, first in (("train", 0), ("val", 100), ("test", 200)):
        rows = ["filename,label"]
        for c in range(first, first + classes):
            wnid = f"n{c:08d}"
            for k in range(per_class):
                name = f"{wnid}{k:08d}.jpg"
                Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(root / "images" / name)
                rows.append(f"{name},{wnid}")
        (root / f"{split}.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A small finished run whose files must never be damaged by a failing command."""
    out = tmp_path_factory.mktemp("run")
    code = main(["train", "--dataset", "synthetic", *FAST, "--way", "3", "--shot", "1", "--query", "2",
                 "--set", "eval.way=3", "--set", "eval.query=2", "--out", str(out)])
    assert code == 0
    return out


def _digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _fails_cleanly(capsys, argv, *needles):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (code, err)
    lines = [line for line in err.splitlines() if line.strip() and "WARNING" not in line and " INFO " not in line]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_corrupted_jpeg(tmp_path, capsys):
    root = _ravi(tmp_path / "mini")
    bad = sorted((root / "images").glob("n00000002*.jpg"))[3]
    bad.write_bytes(bad.read_bytes()[:200])
    _fails_cleanly(capsys, ["train", "--dataset", "mini-imagenet", "--data-root", str(root), *FAST,
                            "--out", str(tmp_path / "o")], bad.name)


def test_truncated_pickle(tmp_path, capsys):
    root = tmp_path / "pk"
    root.mkdir()
    payload = pickle.dumps({"image_data": np.zeros((10, 84, 84, 3), np.uint8), "class_dict": {"a": list(range(10))}})
    for split in ("train", "validation", "test"):
        (root / f"mini-imagenet-cache-{split}.pkl").write_bytes(payload[: len(payload) // 2])
    _fails_cleanly(capsys, ["train", "--dataset", "mini-imagenet", "--data-root", str(root), *FAST,
                            "--out", str(tmp_path / "o")], "mini-imagenet-cache-train.pkl")


def test_html_page_saved_as_pickle(tmp_path, capsys):
    root = tmp_path / "pk"
    root.mkdir()
    for split in ("train", "validation", "test"):
        (root / f"mini-imagenet-cache-{split}.pkl").write_text("<!DOCTYPE html><html><title>Google Drive</title>")
    line = _fails_cleanly(capsys, ["train", "--dataset", "mini-imagenet", "--data-root", str(root), *FAST,
                                   "--out", str(tmp_path / "o")], "mini-imagenet-cache-train.pkl")
    assert "HTML" in line


def test_csv_without_label_column(tmp_path, capsys):
    root = _ravi(tmp_path / "mini")
    csv = root / "train.csv"
    csv.write_text(csv.read_text().replace("filename,label", "filename,wnid", 1))
    line = _fails_cleanly(capsys, ["train", "--dataset", "mini-imagenet", "--data-root", str(root), *FAST,
                                   "--out", str(tmp_path / "o")], "train.csv")
    assert "label" in line


def test_csv_row_whose_image_is_missing(tmp_path, capsys):
    root = _ravi(tmp_path / "mini")
    victim = sorted((root / "images").glob("n00000001*.jpg"))[0]
    victim.unlink()
    _fails_cleanly(capsys, ["train", "--dataset", "mini-imagenet", "--data-root", str(root), *FAST,
                            "--out", str(tmp_path / "o")], victim.name)


def test_class_with_fewer_images_than_shot_plus_query(tmp_path, capsys):
    root = _ravi(tmp_path / "mini", per_class=12)
    line = _fails_cleanly(capsys, ["train", "--dataset", "mini-imagenet", "--data-root", str(root), *FAST,
                                   "--way", "3", "--shot", "5", "--query", "15", "--out", str(tmp_path / "o")],
                          "fewer than shot + query = 20")
    assert re.search(r"class 'n\d{8}' of mini-imagenet/(train|val) has 12 images", line), line


def test_way_larger_than_the_number_of_classes(tmp_path, capsys):
    root = _ravi(tmp_path / "mini")
    _fails_cleanly(capsys, ["train", "--dataset", "mini-imagenet", "--data-root", str(root), *FAST,
                            "--way", "20", "--shot", "1", "--query", "1", "--out", str(tmp_path / "o")],
                   "way 20 is larger than the 6 classes")


def test_empty_data_directory(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    _fails_cleanly(capsys, ["train", "--dataset", "mini-imagenet", "--data-root", str(tmp_path / "empty"), *FAST,
                            "--out", str(tmp_path / "o")], str(tmp_path / "empty"))


def test_unwritable_output_directory(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    _fails_cleanly(capsys, ["train", "--dataset", "synthetic", *FAST, "--out", str(blocker / "run")],
                   "output directory", "not writable")


def test_episodes_file_made_for_another_dataset(tmp_path, capsys, finished_run):
    before = _digest(finished_run)
    other = tmp_path / "other.json.gz"
    code = main(["episodes", "make", "--dataset", "synthetic", "--split", "val", "--way", "3", "--shot", "1",
                 "--query", "2", "--episodes", "3", "--seed", "0", "--out", str(other)])
    assert code == 0
    capsys.readouterr()
    _fails_cleanly(capsys, ["eval", str(finished_run), "--split", "test", "--way", "3", "--shot", "1",
                            "--query", "2", "--episodes-file", str(other)], str(other))
    assert _digest(finished_run) == before


def test_checkpoint_from_an_incompatible_backbone(tmp_path, capsys, finished_run):
    other = tmp_path / "cnn9"
    assert main(["train", "--dataset", "synthetic", *FAST, "--backbone", "cnn9", "--way", "3", "--shot", "1",
                 "--query", "2", "--set", "eval.way=3", "--set", "eval.query=2", "--out", str(other)]) == 0
    capsys.readouterr()
    target = tmp_path / "mixed"
    target.mkdir()
    (target / "checkpoints").mkdir()
    (target / "config.yaml").write_bytes((finished_run / "config.yaml").read_bytes())
    (target / "checkpoints" / "last.pt").write_bytes((other / "checkpoints" / "last.pt").read_bytes())
    before = _digest(target)
    _fails_cleanly(capsys, ["train", "--config", str(target / "config.yaml"), "--episodes", "4",
                            "--out", str(target)], "checkpoint", "last.pt")
    assert _digest(target) == before


@pytest.mark.parametrize("flags, needle", [
    (["--episodes", "0"], "train.episodes must be >= 1"),
    (["--way", "-5"], "task.way must be >= 1"),
    (["--shot", "0"], "task.shot must be >= 1"),
    (["--query", "-1"], "task.query must be >= 1"),
    (["--image-size", "-3"], "image_size"),
])
def test_zero_and_negative_sizes(tmp_path, capsys, flags, needle):
    _fails_cleanly(capsys, ["train", "--dataset", "synthetic", "--out", str(tmp_path / "o"), *flags], needle)


def test_eval_negative_episodes(capsys, finished_run):
    _fails_cleanly(capsys, ["eval", str(finished_run), "--episodes", "-1"], "--episodes must be >= 1")


def test_failing_train_does_not_touch_an_existing_run(capsys, finished_run):
    before = _digest(finished_run)
    _fails_cleanly(capsys, ["train", "--dataset", "synthetic", "--out", str(finished_run), "--shot", "0"], "shot")
    _fails_cleanly(capsys, ["train", "--dataset", "synthetic", "--out", str(finished_run),
                            "--set", "train.episods=3"], "did you mean 'train.episodes'")
    assert _digest(finished_run) == before


def test_unknown_argument_is_one_line_exit_2():
    done = subprocess.run([sys.executable, "-m", "fewshot_nsl", "train", "--no-such-flag"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "--no-such-flag" in done.stderr


def test_bad_input_in_a_real_process_has_no_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "fewshot_nsl", "train", "--dataset", "mini-imagenet",
                           "--data-root", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and str(tmp_path / "nowhere") in done.stderr


def _without_test_images(root):
    """The audit's case: a Mini-ImageNet copy whose test.csv lists images that are not there."""
    for line in (root / "test.csv").read_text().splitlines()[1:]:
        (root / "images" / line.split(",")[0]).unlink()
    return root


def test_missing_test_images_fail_before_the_first_step(tmp_path, capsys):
    import time

    root = _without_test_images(_ravi(tmp_path / "mini"))
    out = tmp_path / "o"
    start = time.perf_counter()
    line = _fails_cleanly(capsys, ["train", "--dataset", "mini-imagenet", "--data-root", str(root),
                                   "--episodes", "20000", "--no-progress", "--out", str(out)],
                          "mini-imagenet/test", str(root), "--skip-missing-eval")
    assert time.perf_counter() - start < 3, "the check must not wait for training"
    assert "missing" in line
    assert not out.exists()  # nothing written: no checkpoint, no metrics, not even the folder


def test_skip_missing_eval_trains_and_says_so_in_one_line(tmp_path, capsys, caplog):
    root = _without_test_images(_ravi(tmp_path / "mini"))
    out = tmp_path / "o"
    code = main(["train", "--dataset", "mini-imagenet", "--data-root", str(root), "--episodes", "2",
                 "--val-every", "2", "--val-episodes", "2", "--no-progress", "--skip-missing-eval",
                 "--way", "5", "--shot", "1", "--query", "2", "--image-size", "16", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    skipped = [r.getMessage() for r in caplog.records if "final evaluation" in r.getMessage()]
    assert len(skipped) == 1 and "skipped" in skipped[0] and "mini-imagenet/test" in skipped[0], skipped
    assert "\n" not in skipped[0]
    assert (out / "DONE").exists() and not (out / "eval").exists()


def test_missing_episodes_file_fails_before_training(tmp_path, capsys):
    out = tmp_path / "o"
    missing = tmp_path / "nope.json.gz"
    _fails_cleanly(capsys, ["train", "--dataset", "synthetic", "--episodes", "2", "--no-progress",
                            "--set", f"eval.episodes_file={missing}", "--out", str(out)], str(missing))
    assert not out.exists()


def test_missing_eval_split_leaves_an_existing_run_untouched(capsys, finished_run):
    before = _digest(finished_run)
    _fails_cleanly(capsys, ["train", "--dataset", "synthetic", "--way", "3", "--shot", "1", "--query", "2",
                            "--set", "eval.way=3", "--set", "eval.query=2", "--set", "eval.split=nosuch",
                            "--episodes", "4", "--no-progress", "--out", str(finished_run)], "nosuch")
    assert _digest(finished_run) == before


def test_leaderboard_reference_must_be_a_row_that_runs(tmp_path, capsys):
    from fewshot_nsl.cli.main import main

    code = main(["leaderboard", "--budget", "smoke", "--out", str(tmp_path / "lb"), "--methods", "protonet",
                 "--reference", "dynamic-cnn4"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--reference 'dynamic-cnn4' is not one of the rows run" in err[0]
