"""Mutation testing of the domain and service layers (``make mutation``): how many planted bugs the fast
tests catch, per module, with every survivor's diff.

mutmut 3 names a mutant after its file path (it strips only a leading ``src.``) and puts only
``mutants/``, ``mutants/src`` and ``mutants/source`` on ``sys.path``. Our package lives at
``functions/qpay`` and the tests import ``qpay``, so run in place every mutant would show as "no tests".
This stages a workspace under ``build/mutation/`` that mutmut understands (``src/qpay`` = a copy of
``functions/qpay``, the tests and what they read, a pyproject with ``pythonpath = ["src", ...]`` and a
``[tool.mutmut]`` section), runs ``mutmut run`` there, then scores each module:

    score = killed / (mutants - equivalent)

``tests/mutation/equivalent.txt`` lists the mutants that cannot change behaviour, one per line:
``<mutant name> <fingerprint of its diff> <reason>``. An entry whose mutant no longer exists, whose diff
changed (the fingerprint), or that the tests now kill is stale and fails the run: the list must be
re-reviewed, never silently carried along. Exit status: 0 when every module scores at least the
threshold (90 %), 1 otherwise.

    make mutation                                   # domain + service, 2 workers
    make mutation ARGS="--only 'src/qpay/domain/*'"  # a subset
    make mutation ARGS="--reuse"                    # keep build/mutation: re-run what was not killed
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "build" / "mutation"
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.txt"
THRESHOLD = 90.0

ONLY_MUTATE = ["src/qpay/domain/*.py", "src/qpay/service/*.py"]
# The fast tiers: the pure domain tests, the service layer called with its ports (moto, scripted
# doubles of Checkout.com and Step Functions) and the operations tests. mutmut runs each mutant against
# only the tests that reached the mutated function. tests/handlers is left out on purpose: each of its
# tests starts the simulator and goes through the HTTP layer (~100 s a run), which made a surviving
# service mutant cost minutes and the whole run hours on two cores.
TEST_SELECTION = ["tests/unit", "tests/service", "tests/ops"]
# What those tests read besides the code (template, fixtures, the simulator, the OpenAPI document).
ALSO_COPY = ["sandbox", "events", "infra", "docs", "template.yaml", "openapi.json"]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", "build", "mutants")

KILLED = {"killed", "timeout", "caught by type check"}


@dataclass
class ModuleScore:
    module: str
    statuses: Counter[str] = field(default_factory=Counter)
    equivalent: int = 0

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def killed(self) -> int:
        return sum(n for s, n in self.statuses.items() if s in KILLED)

    @property
    def survived(self) -> int:
        return self.total - self.killed - self.equivalent

    @property
    def score(self) -> float:
        counted = self.total - self.equivalent
        return 100.0 if counted == 0 else 100.0 * self.killed / counted


def stage(only: list[str], tests: list[str]) -> None:
    """A fresh workspace with the layout mutmut 3 expects (sources under src/, tests beside them)."""
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    copy_code()
    shutil.copytree(ROOT / "tests", WORK / "tests", ignore=IGNORE)
    for name in ALSO_COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, WORK / name, ignore=IGNORE)
        elif src.exists():
            shutil.copy2(src, WORK / name)
    (WORK / "pyproject.toml").write_text(pyproject(only, [t for t in tests if (ROOT / t).exists()]))


def sync_tests() -> None:
    """--reuse: bring the staged copies of the tests and the code up to date (mutmut re-collects stats
    for new tests and re-runs the mutants of changed functions)."""
    for target in (WORK, WORK / "mutants"):
        if (target / "tests").exists():
            shutil.rmtree(target / "tests")
        shutil.copytree(ROOT / "tests", target / "tests", ignore=IGNORE)
    copy_code()


def copy_code() -> None:
    """functions/qpay -> src/qpay, with every logging statement marked ``# pragma: no mutate``: a log
    line's text and ``extra`` keys are for people reading logs, not behaviour (metrics stay mutated:
    alarms read them). Only the staged copy is marked; file times are kept so --reuse re-mutates only
    what changed."""
    src = WORK / "src" / "qpay"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(ROOT / "functions" / "qpay", src, ignore=IGNORE)
    for path in src.rglob("*.py"):
        text = path.read_text()
        marked = mark_logging(text)
        if marked != text:
            stat = path.stat()
            path.write_text(marked)
            os.utime(path, (stat.st_atime, stat.st_mtime))


def mark_logging(text: str) -> str:
    lines = text.split("\n")
    spans: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and isinstance(node.value.func.value, ast.Name)
            and node.value.func.value.id == "logger"
        ):
            spans.update(range(node.lineno - 1, (node.end_lineno or node.lineno)))
    for i in sorted(spans):
        lines[i] += "  # pragma: no mutate" if "#" not in lines[i] else " # pragma: no mutate"
    return "\n".join(lines)


def pyproject(only: list[str], tests: list[str]) -> str:
    """The repository's pyproject, with the package on src/ and a [tool.mutmut] section."""
    text = (ROOT / "pyproject.toml").read_text()
    old = 'pythonpath = ["functions", "sandbox", "."]'
    if old not in text:
        raise SystemExit(f"pyproject.toml: expected {old!r} under [tool.pytest.ini_options]")
    text = text.replace(old, 'pythonpath = ["src", "sandbox", "."]')

    def toml_list(items: list[str]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    return (
        text
        + "\n[tool.mutmut]\n"
        + 'source_paths = ["src/qpay"]\n'
        + f"only_mutate = {toml_list(only)}\n"
        + f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n"
        # the guard plants its own bugs in the real source: not a test of a mutant
        + 'pytest_add_cli_args = ["-p", "no:cacheprovider", "--ignore=tests/unit/test_mutation_guard.py"]\n'
        + f"also_copy = {toml_list([n for n in ALSO_COPY if (ROOT / n).exists()])}\n"
        + "use_git_change_detection = false\n"
        # a mutant mypy rejects cannot pass `make lint`: caught without running a test
        + 'type_check_command = ["python", "-m", "mypy", "--output", "json", "--config-file=/dev/null", '
        + '"--ignore-missing-imports", "--explicit-package-bases", "-p", "qpay.domain", "-p", "qpay.service"]\n'
        + "use_setproctitle = false\n"
        # a mutant that loops forever is stopped after 2 x 4 x the CPU time its tests took unmutated
        # (mutmut's default, 2 x 15, let each such mutant hold a worker for minutes on this machine)
        + "timeout_multiplier = 4.0\n"
    )


def run_mutmut(max_children: int, names: list[str]) -> int:
    env = {
        **os.environ,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MYPYPATH": "src:sandbox",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children), *names]
    return subprocess.run(cmd, cwd=WORK, env=env, check=False).returncode  # noqa: S603 - our own interpreter


def module_of(mutant: str) -> str:
    parts = mutant.split(".")
    for i, part in enumerate(parts):
        if part.startswith(("x_", "xǁ")):
            return ".".join(parts[:i])
    return mutant.rpartition(".")[0]


def load_results() -> dict[str, str]:
    """Every mutant's status, from mutmut's per-file result files."""
    from mutmut.stats import status_by_exit_code  # noqa: PLC0415 - only once mutmut has run

    out: dict[str, str] = {}
    for meta in sorted((WORK / "mutants").rglob("*.py.meta")):
        doc = json.loads(meta.read_text())
        for name, code in doc.get("exit_code_by_key", {}).items():
            out[name] = status_by_exit_code[code]
    return out


def diff_of(name: str) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # noqa: PLC0415 - reads config from the cwd

    return get_diff_for_mutant(name)


def fingerprint(diff: str) -> str:
    """The changed lines only (not line numbers): stable while the function is unchanged."""
    changed = [ln for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    return hashlib.sha256("\n".join(changed).encode()).hexdigest()[:10]


def read_equivalent() -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    if not EQUIVALENT.exists():
        return out
    for raw in EQUIVALENT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, fp, reason = [*line.split(None, 2), "", ""][:3]
        if not reason:
            raise SystemExit(f"{EQUIVALENT}: every entry needs a fingerprint and a reason: {raw!r}")
        out[name] = (fp, reason)
    return out


def report(results: dict[str, str], wall_s: float) -> int:
    os.chdir(WORK)  # mutmut reads its configuration and files relative to the workspace
    equivalent = read_equivalent()
    problems: list[str] = []
    scores: dict[str, ModuleScore] = {}
    survivors: list[tuple[str, str, str]] = []
    for name, status in sorted(results.items()):
        module = scores.setdefault(module_of(name), ModuleScore(module_of(name)))
        module.statuses[status] += 1
        if status in KILLED:
            if name in equivalent:
                problems.append(f"{name} is listed as equivalent but the tests kill it: remove it from the list")
            continue
        diff = diff_of(name)
        if name in equivalent:
            fp, _ = equivalent[name]
            if fp != fingerprint(diff):
                problems.append(
                    f"{name}: its diff changed since it was judged equivalent ({fingerprint(diff)}):\n{diff}"
                )
            else:
                module.equivalent += 1
                continue
        survivors.append((name, status, diff))
    problems += [
        f"{name} is listed as equivalent but no such mutant exists any more"
        for name in equivalent
        if name not in results and module_of(name) in scores
    ]

    for name, status, diff in survivors:
        print(f"\n# {name}: {status}   (fingerprint {fingerprint(diff)})\n{diff}")
    header = f"\n{'module':<34} {'mutants':>7} {'killed':>6} {'equiv':>5} {'surv':>5} {'score':>7}"
    print(header)
    print("-" * (len(header) - 1))
    failing = []
    totals = ModuleScore("total")
    for module in sorted(scores.values(), key=lambda m: m.module):
        print(
            f"{module.module:<34} {module.total:>7} {module.killed:>6} {module.equivalent:>5} "
            f"{module.survived:>5} {module.score:>6.1f}%"
        )
        totals.statuses.update(module.statuses)
        totals.equivalent += module.equivalent
        if module.score < THRESHOLD:
            failing.append(module.module)
    print(
        f"{'total':<34} {totals.total:>7} {totals.killed:>6} {totals.equivalent:>5} "
        f"{totals.survived:>5} {totals.score:>6.1f}%"
    )
    others = Counter(s for s in results.values() if s not in KILLED and s != "survived")
    if others:
        print("not survived, not killed (counted as survivors):", dict(others))
    print(f"\nwall time: {wall_s:.0f} s")
    for p in problems:
        print(f"STALE EQUIVALENT: {p}")
    if failing:
        print(f"FAIL: under {THRESHOLD:.0f}%: {', '.join(failing)}")
    return 1 if failing or problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", default=ONLY_MUTATE, help="globs of files to mutate (under src/)")
    parser.add_argument("--tests", nargs="+", default=TEST_SELECTION, help="the test selection")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep build/mutation: re-run the mutants not killed, with the current tests",
    )
    parser.add_argument("--report-only", action="store_true", help="score the last run without running")
    parser.add_argument("mutants", nargs="*", help="re-run only these mutants (implies --reuse)")
    args = parser.parse_args(argv)

    start = time.monotonic()
    if not args.report_only:
        names = list(args.mutants)
        if args.reuse or names:
            # killed stays killed (more tests cannot revive a mutant); everything else runs again
            names = names or sorted(n for n, s in load_results().items() if s not in KILLED)
            sync_tests()
        else:
            stage(args.only, args.tests)
        code = run_mutmut(args.max_children, names)
        if code != 0:
            print(f"mutmut run exited with {code}")
            return code
    return report(load_results(), time.monotonic() - start)


if __name__ == "__main__":
    raise SystemExit(main())
