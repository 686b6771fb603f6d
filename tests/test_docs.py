"""The docs stay true to the code: every spec reference resolves, every package folder is on the architecture page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "docs" / "NSL_SPEC.md"
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
#: where the code cites the spec
CITING = ("fewshot_nsl", "tests", "benchmarks", "README.md")
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg"}

#: a spec heading: "## 3. Title", "### 3.2 Title" (an optional "§" is accepted)
HEADING = re.compile(r"^#{2,4}\s+§?(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
_NUM = r"§\d+(?:\.\d+)*"
#: "NSL_SPEC §3.2", "docs/NSL_SPEC.md §3.2", chains "NSL_SPEC §1, §2.1, §3.3" and ranges "NSL_SPEC §1-§5"
REFERENCE = re.compile(rf"NSL_SPEC(?:\.md)?\s*({_NUM}(?:\s*(?:,|-|–|and|or)\s*{_NUM})*)")
RANGE = re.compile(r"§(\d+)\s*[-–]\s*§(\d+)(?![.\d])")


def spec_sections(text: str) -> set[str]:
    """Section numbers ("3", "3.2") of the headings of a spec text."""
    return set(HEADING.findall(text))


def cited_sections(text: str) -> set[str]:
    """Section numbers a text cites through ``NSL_SPEC``; a range §a-§b cites every section from a to b."""
    cited: set[str] = set()
    for match in REFERENCE.finditer(text):
        chain = match.group(1)
        cited.update(re.findall(r"§(\d+(?:\.\d+)*)", chain))
        for lo, hi in RANGE.findall(chain):
            cited.update(str(n) for n in range(int(lo), int(hi) + 1))
    return cited


def citing_files() -> list[Path]:
    files: list[Path] = []
    for name in CITING:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        files += [p for p in candidates if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts]
    return [p for p in files if p != Path(__file__).resolve()]  # this file's examples cite missing sections


def test_the_parsers_see_headings_chains_and_ranges():
    spec = "# Title\n## 1. One\n### 1.2 Sub\n## 5. Five\n### §8.4 Eval\ntext ## 9. not a heading\n"
    assert spec_sections(spec) == {"1", "1.2", "5", "8.4"}
    assert cited_sections("(NSL_SPEC §1, §2.1, §3.3) and Snell et al. §3.2") == {"1", "2.1", "3.3"}
    assert cited_sections("NSL_SPEC §1-§3; docs/NSL_SPEC.md §8.4; NSL_SPEC §10: 3-6") == {"1", "2", "3", "8.4", "10"}
    assert cited_sections("a multi-line NSL_SPEC\n    §3.2, §3.4.") == {"3.2", "3.4"}


def test_a_reference_to_a_missing_section_is_caught():
    sections = spec_sections("## 3. Dynamic\n### 3.2 Predictors\n")
    assert cited_sections("see NSL_SPEC §3.2") <= sections
    assert not cited_sections("see NSL_SPEC §3.7") <= sections


def test_every_spec_reference_resolves_to_a_heading_of_docs_nsl_spec():
    text = SPEC.read_text(encoding="utf-8")
    sections = spec_sections(text)
    assert len(HEADING.findall(text)) == len(sections), "docs/NSL_SPEC.md has a section number twice"
    missing: list[str] = []
    citing = 0
    for path in citing_files():
        cited = cited_sections(path.read_text(encoding="utf-8"))
        citing += bool(cited)
        missing += [f"{path.relative_to(ROOT)}: §{n}" for n in sorted(cited - sections)]
    assert not missing, "references to sections docs/NSL_SPEC.md does not have: " + ", ".join(missing)
    assert citing >= 20, f"only {citing} files cite NSL_SPEC: is the reference pattern still the one the code uses?"


@pytest.mark.parametrize("package", sorted(p.parent.name for p in (ROOT / "fewshot_nsl").glob("*/__init__.py")))
def test_every_package_folder_is_on_the_architecture_page(package):
    assert f"{package}/" in ARCHITECTURE.read_text(encoding="utf-8"), f"docs/ARCHITECTURE.md does not name {package}/"
