"""The wheel carries its data: the committed episode files, the presets and the packaged Omniglot, and an
installed copy (the wheel unzipped, nothing from the checkout on the path) finds them and evaluates on them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "fewshot_nsl"
#: what the build reads; the rest of the checkout (runs, caches, .git) is not copied
BUILD_INPUTS = ("pyproject.toml", "setup.cfg", "MANIFEST.in", "README.md")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".fewshot-nsl-cache", "*.egg-info")

#: run inside the unzipped wheel: where the package, the standard file and a preset are found
PROBE = """
import json, sys
import fewshot_nsl
from fewshot_nsl.data.roots import PACKAGED
from fewshot_nsl.episodes.files import SplitLabels, read_episode_file, standard_episode_file
from fewshot_nsl.runtime.config import preset_path, resolve_config

path = standard_episode_file("omniglot", "test", 5, 5)
episodes = read_episode_file(path).to_episodes(SplitLabels.read("omniglot", "test", str(PACKAGED / "omniglot")))
config = resolve_config("dynamic", None, {}, [])
print(json.dumps({"package": fewshot_nsl.__file__, "episodes_file": str(path), "episodes": len(episodes),
                  "preset": str(preset_path("dynamic")), "method": config.method_name}))
"""


def package_data() -> list[str]:
    """The data files the wheel must hold, as paths inside it (``fewshot_nsl/...``)."""
    files = sorted(PACKAGE.glob("episodes/standard_files/*.json.gz")) + sorted(PACKAGE.glob("configs/*.yaml"))
    files += sorted(p for p in (PACKAGE / "data" / "packaged").rglob("*") if p.is_file())
    return [p.relative_to(ROOT).as_posix() for p in files]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built offline from a copy of the checkout (a build in place would leave build/ behind, and a stale
    build/ can smuggle removed files into the wheel)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(PACKAGE, src / "fewshot_nsl", ignore=SKIP)
    for name in BUILD_INPUTS:
        shutil.copy2(ROOT / name, src / name)
    out = tmp / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
           "-w", str(out), str(src)]
    done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("fewshot_nsl-*.whl")
    return built


def test_the_data_is_there_to_be_shipped() -> None:
    names = package_data()
    assert sum(n.endswith(".json.gz") for n in names) == 8
    assert "fewshot_nsl/configs/dynamic.yaml" in names
    assert "fewshot_nsl/data/packaged/omniglot/images_evaluation.npz" in names
    assert "fewshot_nsl/data/packaged/omniglot/LICENSE-omniglot.txt" in names


@pytest.mark.slow
def test_the_wheel_holds_every_data_file(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        held = set(z.namelist())
    missing = [n for n in package_data() if n not in held]
    assert not missing, f"{wheel.name} lacks {missing}"
    assert not [n for n in held if n.startswith(("tests/", "benchmarks/", "episodes/"))]


@pytest.mark.slow
def test_an_installed_wheel_finds_the_committed_episodes(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEWSHOT_NSL_")}
    # only the unzipped wheel: the checkout (and its editable install, which comes later on sys.path) is shadowed
    env.update(PYTHONPATH=str(site), FEWSHOT_NSL_DATA=str(tmp_path / "no-data"), FEWSHOT_NSL_CACHE=str(tmp_path))
    done = subprocess.run([sys.executable, "-s", "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    package = site / "fewshot_nsl"
    assert Path(found["package"]).is_relative_to(package), found
    standard = package / "episodes" / "standard_files" / "omniglot_test_5way5shot15query_600ep_seed0.json.gz"
    assert Path(found["episodes_file"]) == standard and found["episodes"] == 600
    assert Path(found["preset"]) == package / "configs" / "dynamic.yaml" and found["method"] == "dynamic"
