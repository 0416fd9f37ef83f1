"""The documentation holds together: every relative link of README.md and docs/*.md reaches a
file and, where it names one, a heading of that file; the test command the README and the
contributing page give is the one CI runs; and the contributing page lists every test file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def outside_code_blocks(markdown: str) -> str:
    return "\n".join(line for line in markdown.split("\n") if not line.startswith("    "))


def prose(markdown: str) -> str:
    """The text outside code, where a link is a link: code blocks dropped, inline code blanked."""
    return re.sub(r"`[^`]*`", "code", outside_code_blocks(markdown))


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as
    hyphens, and a repeated heading numbered from 1."""
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", outside_code_blocks(markdown), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in LINK.findall(prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z+.-]*:", target):
            continue  # a web address, not a file of the repository
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file.relative_to(ROOT) if file.is_relative_to(ROOT) else file}")
        elif anchor and anchor not in anchors(file.read_text(encoding="utf-8")):
            broken.append(f"{target}: no heading #{anchor} in {file.name}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_reaches_its_file_and_heading(page):
    assert broken_links(page) == []


def test_a_broken_link_or_anchor_is_caught(tmp_path):
    (tmp_path / "other.md").write_text("# Export `OUT.html`, twice\n\n## Export `OUT.html`, twice\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[fine](other.md#export-outhtml-twice) [second](other.md#export-outhtml-twice-1) [self](#top)\n"
        "[gone](missing.md) [no heading](other.md#nowhere) [web](https://example.org/x#y)\n"
        "    [in code](also-missing.md)\n\n# Top\n"
    )
    assert broken_links(page) == [
        f"missing.md: no file {tmp_path.resolve() / 'missing.md'}",
        "other.md#nowhere: no heading #nowhere in other.md",
    ]


def documented_test_command(page: Path) -> list[str]:
    """The commands of the line that installs the test extra and runs the checks."""
    line = next(line for line in page.read_text(encoding="utf-8").split("\n") if "pip install -e '.[test" in line)
    return [command.strip() for command in line.split("&&")]


def test_the_documented_test_command_is_what_ci_runs():
    readme = documented_test_command(ROOT / "README.md")
    assert documented_test_command(ROOT / "docs" / "contributing.md") == readme
    install, *checks = readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().split("\n")
    extra = re.search(r"-e ('\.\[[^\]]*\]')", install)[1]
    assert any(line.strip().startswith("python3 -m pip install") and extra in line for line in ci)
    ci_checks = [command.strip().removeprefix("python3 -m ") for command in ci[-1].split("&&")]
    assert ci_checks == [command.removeprefix("python -m ") for command in checks]


def test_the_contributing_page_lists_every_test_file():
    listed = set(re.findall(r"^\| `(test_\w+\.py)` \|", (ROOT / "docs" / "contributing.md").read_text(), flags=re.M))
    on_disk = {path.name for path in (ROOT / "tests").glob("test_*.py")}
    assert sorted(on_disk - listed) == [], "test files missing from docs/contributing.md's table"
    assert sorted(listed - on_disk) == [], "docs/contributing.md lists test files that are gone"
