"""Which functions of ``functions/qpay`` a change touches, named the way mutmut names their mutants.

``make mutation-diff`` (``infra/tools/mutation.py --changed``) mutates only these functions. The change
is the diff from a base revision to the working tree (committed or not), chosen deterministically so a
clean clone with no remote gets the same answer as a developer's checkout:

1. ``--changed-since REV`` (or ``MUTATION_BASE=REV``) when given;
2. else the newest ``v*`` tag that is an ancestor of HEAD (``git describe --tags --match 'v*'``);
3. else the commit ``tests/mutation/baseline.json`` records: the last commit whose full ``make mutation``
   run was green for every module it covered (``make mutation ARGS=--record-baseline`` writes it);
4. else the commit ``infra/release-baseline.json`` records (the last release), if it is an ancestor;
5. else ``HEAD~5`` (or the root commit of a shorter history).

Of 2-4, the newest that is an ancestor of HEAD wins (all are "already verified" points, a later one is a
smaller, still complete, diff). Lines map to functions through ``ast``: a function (its decorators
included) or a method is touched when a changed or added line falls in it, or lines were deleted inside
it. mutmut mutates only function bodies, so a change to module-level code (a constant, a table) names no
function; it is listed as such, never silently dropped.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = "functions/qpay"
MUTATION_BASELINE = "tests/mutation/baseline.json"
RELEASE_BASELINE = "infra/release-baseline.json"
FALLBACK_DEPTH = 5

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Base:
    rev: str  # full sha
    why: str  # how it was chosen, for the log


@dataclass
class Change:
    """The touched functions per module (mutmut's mangled names: ``x_f``, ``xǁClassǁm``), and the modules
    with changes outside any function."""

    functions: dict[str, set[str]] = field(default_factory=dict)
    module_level: dict[str, list[int]] = field(default_factory=dict)

    def mutant_prefixes(self) -> list[str]:
        """``qpay.service.refunds.x_f__mutmut_``: every mutant of a touched function starts with one."""
        return sorted(f"{module}.{name}__mutmut_" for module, names in self.functions.items() for name in names)


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)  # noqa: S603,S607
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def _sha(root: Path, rev: str) -> str | None:
    try:
        return git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip() or None
    except RuntimeError:
        return None


def _is_ancestor(root: Path, older: str, newer: str) -> bool:
    done = subprocess.run(  # noqa: S603
        ["git", "merge-base", "--is-ancestor", older, newer],  # noqa: S607
        cwd=root,
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _recorded_commit(root: Path, relative: str) -> str | None:
    path = root / relative
    if not path.exists():
        return None
    commit = json.loads(path.read_text()).get("commit")
    return _sha(root, commit) if isinstance(commit, str) and commit else None


def resolve_base(root: Path = ROOT, explicit: str | None = None) -> Base:
    if explicit:
        sha = _sha(root, explicit)
        if sha is None:
            raise SystemExit(f"--changed-since {explicit!r}: no such commit")
        return Base(sha, f"given: {explicit}")
    head = _sha(root, "HEAD")
    if head is None:
        raise SystemExit("no HEAD commit: nothing to diff against")
    candidates: list[tuple[str, str]] = []
    try:
        tag = git(root, "describe", "--tags", "--abbrev=0", "--match", "v*", "HEAD").strip()
    except RuntimeError:
        tag = ""
    if tag and (sha := _sha(root, tag)):
        candidates.append((sha, f"the newest release tag {tag}"))
    for relative, what in (
        (MUTATION_BASELINE, "the last green full mutation run"),
        (RELEASE_BASELINE, "the last release"),
    ):
        sha = _recorded_commit(root, relative)
        if sha and _is_ancestor(root, sha, head):
            candidates.append((sha, f"{what} ({relative}: {sha[:7]})"))
    newest: tuple[str, str] | None = None
    for sha, why in candidates:
        if newest is None or (sha != newest[0] and _is_ancestor(root, newest[0], sha)):
            newest = (sha, why)
    if newest:
        return Base(*newest)
    depth = min(FALLBACK_DEPTH, int(git(root, "rev-list", "--count", "HEAD").strip()) - 1)
    sha = _sha(root, f"HEAD~{depth}") or head
    return Base(sha, f"HEAD~{depth} (no release tag or recorded baseline)")


def parse_zero_context_diff(diff: str) -> dict[str, set[int]]:
    """``git diff -U0`` -> new-side path -> the lines of the new file that the change touches.

    An added or changed line counts itself. A pure deletion (``+c,0``) counts the lines on both sides of
    the gap (``c`` and ``c + 1``), so deleting statements from a function's middle or end touches it.
    A deleted file has no new side and no lines."""
    touched: dict[str, set[int]] = {}
    path: str | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            target = line[4:].strip()
            path = None if target == "/dev/null" else target.removeprefix("b/")
            if path is not None:
                touched.setdefault(path, set())
            continue
        match = _HUNK.match(line)
        if match and path is not None:
            start = int(match.group(1))
            count = 1 if match.group(2) is None else int(match.group(2))
            lines = {start, start + 1} if count == 0 else set(range(start, start + count))
            touched[path].update(n for n in lines if n > 0)
    return touched


def _span(node: ast.FunctionDef | ast.AsyncFunctionDef) -> range:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return range(first, (node.end_lineno or node.lineno) + 1)


def functions_touched(source: str, lines: set[int]) -> tuple[set[str], list[int]]:
    """The functions and methods (mutmut's mangled names) that contain one of ``lines``, and the lines
    that fall in no function (module-level code, class bodies outside methods)."""
    names: set[str] = set()
    inside: set[int] = set()

    def visit(body: list[ast.stmt], class_name: str = "") -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                span = _span(node)
                inside.update(span)
                if lines.intersection(span):
                    names.add(f"xǁ{class_name}ǁ{node.name}" if class_name else f"x_{node.name}")
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{class_name}.{node.name}" if class_name else node.name)

    tree = ast.parse(source)
    visit(tree.body)
    last = len(source.splitlines())
    # a deletion at the end of the file reports the line after the last one: not code
    outside = sorted(n for n in lines - inside if n <= last and source.splitlines()[n - 1].strip())
    return names, outside


def module_name(path: str) -> str:
    """``functions/qpay/adapters/store/__init__.py`` -> ``qpay.adapters.store`` (as mutmut names it)."""
    dotted = path.removeprefix("functions/").removesuffix(".py").replace("/", ".")
    return dotted.removesuffix(".__init__")


def changed_functions(root: Path, base: str) -> Change:
    diff = git(root, "diff", "-U0", "--no-color", "--no-ext-diff", "--no-renames", base, "--", PACKAGE_DIR)
    touched = parse_zero_context_diff(diff)
    for path in git(root, "ls-files", "--others", "--exclude-standard", "--", PACKAGE_DIR).splitlines():
        touched[path] = set(range(1, len((root / path).read_text().splitlines()) + 1))
    change = Change()
    for path, lines in sorted(touched.items()):
        if not path.endswith(".py") or not lines:
            continue
        names, outside = functions_touched((root / path).read_text(), lines)
        module = module_name(path)
        if names:
            change.functions[module] = names
        if outside:
            change.module_level[module] = outside
    return change
