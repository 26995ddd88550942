"""The README and the task pages under docs/ (issue 22, 6): every relative link points at a file that
exists (and at a heading that exists, for ``page.md#anchor``), and every ``make <target>`` they show is a
target of the Makefile. A moved page or a renamed target fails here, not in a newcomer's terminal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), ROOT / "CHANGELOG.md"]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
MAKE_INLINE = re.compile(r"`make ([a-z][a-z-]*)")  # `make run`, `make simulate SEED=1`
MAKE_BLOCK = re.compile(r"(?m)^\s*(?:\$ )?make ([a-z][a-z-]*)")  # a line of a shell block


def _targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"(?m)^([a-z][a-z-]*):", text))


def _anchor(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_anchor(h) for h in re.findall(r"(?m)^#+ (.+)$", page.read_text())}


def _without_code(text: str) -> str:
    return re.sub(r"```.*?```", "", text, flags=re.S)


@pytest.mark.parametrize("page", [p for p in PAGES if p.exists()], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(_without_code(page.read_text())):
        if target.startswith(("http://", "https://", "mailto:")) or target.startswith("#"):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve()
        missing_heading = bool(anchor) and resolved.suffix == ".md" and anchor not in _anchors(resolved)
        if not resolved.exists() or missing_heading:
            broken.append(target)
    assert broken == [], f"{page.relative_to(ROOT)}: {broken}"


@pytest.mark.parametrize("page", [p for p in PAGES if p.exists()], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_make_command_shown_is_a_target(page: Path) -> None:
    text = page.read_text()
    blocks = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S))
    shown = set(MAKE_INLINE.findall(text)) | set(MAKE_BLOCK.findall(blocks))
    unknown = sorted(shown - _targets())
    assert unknown == [], f"{page.relative_to(ROOT)} shows make targets the Makefile lacks: {unknown}"


def test_the_readme_first_screen_is_the_two_commands() -> None:
    first = (ROOT / "README.md").read_text().split("\n## ", 2)
    setup = first[1]
    commands = re.findall(r"(?m)^make [a-z]+", setup.split("```bash", 1)[1].split("```", 1)[0])
    assert commands == ["make run", "make test"]
