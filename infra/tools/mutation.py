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

The modules run in groups (``GROUPS``), each with the fast tests that reach it and its own workspace
``build/mutation/<group>``: a group's stats phase runs its whole test selection once, so a group that
needs the handler tests pays for them once, not every other group.

    make mutation                                     # every group, 2 workers
    make mutation ARGS="--group adapters"             # one group (repeatable)
    make mutation ARGS="--group domain --only 'src/qpay/domain/ids.py'"  # a subset of a group
    make mutation ARGS="--group adapters --reuse"     # keep the workspace: re-run what was not killed
    make mutation-diff                                # CI: the functions changed since the base (below)

``--changed`` (``make mutation-diff``) mutates only the functions a change touches (``mutation_diff.py``
says how the base revision is chosen), stops loud when they exceed ``--max-mutants``, and fails on any
survivor not listed as equivalent (no threshold: a changed function must be fully tested).
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: infra/tools/mutation.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from infra.tools import mutation_diff

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "mutation"
WORK = BUILD / "domain"  # the current group's workspace (set by use_workspace)
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.txt"
THRESHOLD = 90.0
# --changed: above this many mutants the step stops loud instead of running (at ~40 mutants a minute on
# two workers, measured in the last full run, 200 mutants are ~5 minutes after the ~4 minute stats phase)
MAX_MUTANTS = 200

# The fast tiers: the pure domain tests, the service layer called with its ports (moto, scripted
# doubles of Checkout.com and Step Functions) and the operations tests. mutmut runs each mutant against
# only the tests that reached the mutated function (its stats phase runs the whole selection once).
FAST = ["tests/unit", "tests/service", "tests/ops"]
# The handler tests start the simulator and go through the HTTP layer: only the groups whose code is
# reached by nothing faster (api, handlers, the wiring) include them.
HANDLERS = ["tests/handlers"]


@dataclass(frozen=True)
class Group:
    only: list[str]
    tests: list[str]


GROUPS: dict[str, Group] = {
    "domain": Group(["src/qpay/domain/*.py"], FAST),
    "service": Group(["src/qpay/service/*.py"], FAST),
    # the Checkout client, the secret and the DynamoDB conversion have their own tests (a scripted
    # transport, a fake Secrets Manager): seconds for the whole selection, so mutants are cheap
    # (mutmut matches only_mutate with fnmatch, whose * spans "/": adapters/*.py would take in the store)
    "adapters": Group(
        [
            "src/qpay/adapters/checkout.py",
            "src/qpay/adapters/secrets.py",
            "src/qpay/adapters/origin_secret.py",
            "src/qpay/adapters/dynamo.py",
        ],
        ["tests/adapters", "tests/unit"],
    ),
    # the store is reached through the service tests on moto
    "store": Group(["src/qpay/adapters/store/*.py"], [*FAST, "tests/adapters"]),
    "api": Group(["src/qpay/api/*.py"], ["tests/unit", "tests/api", *HANDLERS]),
    "handlers": Group(["src/qpay/handlers/*.py"], ["tests/ops", *HANDLERS]),
    # settings, log lines and metrics, the clock: their own unit tests
    "core": Group(
        ["src/qpay/settings.py", "src/qpay/observability.py", "src/qpay/clock.py"], ["tests/unit", "tests/adapters"]
    ),
    # the wiring of the ports and the operators' tools: reached through the service, ops and handler tests
    "ops": Group(["src/qpay/deps.py", "src/qpay/ops/*.py"], [*FAST, *HANDLERS]),
}
ONLY_MUTATE = [g for group in GROUPS.values() for g in group.only]
TEST_SELECTION = FAST
# What those tests read besides the code (template, fixtures, the simulator, the OpenAPI document).
ALSO_COPY = ["sandbox", "events", "infra", "docs", "template.yaml", "openapi.json"]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", "build", "mutants")

NOT_OF_A_MUTANT = ["tests/unit/test_mutation_guard.py", "tests/unit/test_mutation_diff.py", "tests/unit/test_docs.py"]
# the names the package's logger is imported as (checkout.py: ``logger as log``)
LOGGER_NAMES = frozenset({"logger", "log"})
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


def stage(work: Path, only: list[str], tests: list[str]) -> None:
    """A fresh workspace with the layout mutmut 3 expects (sources under src/, tests beside them)."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    copy_code(work)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=IGNORE)
    for name in ALSO_COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=IGNORE)
        elif src.exists():
            shutil.copy2(src, work / name)
    (work / "pyproject.toml").write_text(pyproject(only, [t for t in tests if (ROOT / t).exists()]))


def sync_tests(work: Path) -> None:
    """--reuse: bring the staged copies of the tests and the code up to date (mutmut re-collects stats
    for new tests and re-runs the mutants of changed functions)."""
    for target in (work, work / "mutants"):
        if (target / "tests").exists():
            shutil.rmtree(target / "tests")
        shutil.copytree(ROOT / "tests", target / "tests", ignore=IGNORE)
    copy_code(work)


def copy_code(work: Path) -> None:
    """functions/qpay -> src/qpay, with every logging statement marked ``# pragma: no mutate``: a log
    line's text and ``extra`` keys are for people reading logs, not behaviour (metrics stay mutated:
    alarms read them). Only the staged copy is marked; file times are kept so --reuse re-mutates only
    what changed."""
    src = work / "src" / "qpay"
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
            and node.value.func.value.id in LOGGER_NAMES
        ):
            spans.update(range(node.lineno - 1, (node.end_lineno or node.lineno)))
    for i in sorted(spans):
        lines[i] += "  # pragma: no mutate" if "#" not in lines[i] else " # pragma: no mutate"
    return "\n".join(lines)


def type_check_targets(only: list[str]) -> list[str]:
    """mypy's ``-p``/``-m`` arguments for the mutated files: ``src/qpay/domain/*.py`` -> ``-p qpay.domain``."""
    out: list[str] = []
    for pattern in only:
        dotted = pattern.removeprefix("src/").replace("/", ".")
        if dotted.endswith(".*.py"):
            target = ["-p", dotted.removesuffix(".*.py")]
        else:
            target = ["-m", dotted.removesuffix(".py").removesuffix(".__init__")]
        if target[1] not in out:
            out += target
    return out


def pyproject(only: list[str], tests: list[str]) -> str:
    """The repository's pyproject, with the package on src/ and a [tool.mutmut] section."""
    text = (ROOT / "pyproject.toml").read_text()
    old = 'pythonpath = ["functions", "sandbox", "."]'
    if old not in text:
        raise SystemExit(f"pyproject.toml: expected {old!r} under [tool.pytest.ini_options]")
    text = text.replace(old, 'pythonpath = ["src", "sandbox", "."]')

    def toml_list(items: list[str]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    mypy = ["python", "-m", "mypy", "--output", "json", "--config-file=/dev/null", "--ignore-missing-imports"]
    mypy += ["--explicit-package-bases", *type_check_targets(only)]
    return (
        text
        + "\n[tool.mutmut]\n"
        + 'source_paths = ["src/qpay"]\n'
        + f"only_mutate = {toml_list(only)}\n"
        + f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n"
        # not tests of a mutant: the guard plants its own bugs in the real source, the diff mapping reads
        # git, and the docs checks read the repository's pages (their links point at functions/, not src/)
        + f"pytest_add_cli_args = {toml_list(['-p', 'no:cacheprovider', *(f'--ignore={t}' for t in NOT_OF_A_MUTANT)])}\n"
        + f"also_copy = {toml_list([n for n in ALSO_COPY if (ROOT / n).exists()])}\n"
        + "use_git_change_detection = false\n"
        # a mutant mypy rejects cannot pass `make lint`: caught without running a test
        + f"type_check_command = {toml_list(mypy)}\n"
        + "use_setproctitle = false\n"
        # a mutant that loops forever is stopped after 2 x 4 x the CPU time its tests took unmutated
        # (mutmut's default, 2 x 15, let each such mutant hold a worker for minutes on this machine)
        + "timeout_multiplier = 4.0\n"
    )


def mutmut_env() -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MYPYPATH": "src:sandbox",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }


def run_mutmut(work: Path, max_children: int, names: list[str], *, quiet: bool = False) -> int:
    """``mutmut run``; ``quiet``: its progress spinner goes to ``<work>/mutmut.log`` (a CI log would get
    thousands of lines of it), and only the log's last lines are printed when it fails."""
    cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children), *names]
    if not quiet:
        return subprocess.run(cmd, cwd=work, env=mutmut_env(), check=False).returncode  # noqa: S603 - our interpreter
    log = work / "mutmut.log"
    with log.open("w") as out:
        code = subprocess.run(cmd, cwd=work, env=mutmut_env(), stdout=out, stderr=subprocess.STDOUT, check=False)  # noqa: S603
    if code.returncode != 0:
        lines = [ln for ln in log.read_text(errors="replace").replace("\r", "\n").splitlines() if ln.strip()]
        print("\n".join(lines[-60:]))
    return code.returncode


# mutmut's own generation step, without its stats phase: writes mutants/ and the per-file .meta with
# every mutant's name (what --changed needs to count and name the mutants before running any test)
GENERATE = """
from mutmut.__main__ import create_mutants
from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths
from mutmut.mutation.trampoline import set_mutant_under_test
set_mutant_under_test("mutant_generation")
copy_src_dir()
copy_also_copy_files()
setup_source_paths()
create_mutants(2)
"""


def generate(work: Path) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", GENERATE], cwd=work, env=mutmut_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"mutmut could not generate the mutants:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def module_of(mutant: str) -> str:
    parts = mutant.split(".")
    for i, part in enumerate(parts):
        if part.startswith(("x_", "xǁ")):
            return ".".join(parts[:i])
    return mutant.rpartition(".")[0]


def load_results(work: Path) -> dict[str, str]:
    """Every mutant's status, from mutmut's per-file result files (``not checked`` when never run)."""
    from mutmut.stats import status_by_exit_code  # noqa: PLC0415 - only once mutmut has run

    out: dict[str, str] = {}
    for meta in sorted((work / "mutants").rglob("*.py.meta")):
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


@dataclass
class Outcome:
    scores: dict[str, ModuleScore]
    survivors: list[tuple[str, str, str]]
    problems: list[str]


def function_of(mutant: str) -> str:
    """``qpay.m.x_f__mutmut_3`` -> ``qpay.m.x_f``."""
    return mutant.partition("__mutmut_")[0]


def score(work: Path, results: dict[str, str], *, whole_modules: bool = True) -> Outcome:
    """Per-module scores of one workspace's results, its survivors (name, status, diff) and the stale
    equivalent entries. ``whole_modules``: the results cover whole modules (a full run), so an equivalent
    entry of a covered module that names no mutant is stale; otherwise (--changed) only an entry of a
    covered function is."""
    cwd = Path.cwd()
    os.chdir(work)  # mutmut reads its configuration and files relative to the workspace
    try:
        return _score(results, module_of if whole_modules else function_of)
    finally:
        os.chdir(cwd)


def _score(results: dict[str, str], scope: Callable[[str], str]) -> Outcome:
    equivalent = read_equivalent()
    covered = {scope(name) for name in results}
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
        if name not in results and scope(name) in covered
    ]
    return Outcome(scores, survivors, problems)


def report(outcome: Outcome, wall_s: float, *, threshold: float = THRESHOLD) -> int:
    """Print every survivor's diff and the per-module table; 1 when a module is under ``threshold`` or an
    equivalent entry is stale."""
    scores, survivors, problems = outcome.scores, outcome.survivors, outcome.problems
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
        if module.score < threshold:
            failing.append(module.module)
    print(
        f"{'total':<34} {totals.total:>7} {totals.killed:>6} {totals.equivalent:>5} "
        f"{totals.survived:>5} {totals.score:>6.1f}%"
    )
    others = Counter(s for _, s, _ in survivors if s != "survived")
    if others:
        print("not survived, not killed (counted as survivors):", dict(others))
    print(f"\nwall time: {wall_s:.0f} s")
    for p in problems:
        print(f"STALE EQUIVALENT: {p}")
    if failing:
        print(f"FAIL: under {threshold:.0f}%: {', '.join(failing)}")
    return 1 if failing or problems else 0


def module_path(module: str) -> str:
    """``qpay.adapters.store`` -> ``src/qpay/adapters/store/__init__.py`` (the staged path)."""
    plain = "src/" + module.replace(".", "/")
    return f"{plain}/__init__.py" if (ROOT / "functions" / module.replace(".", "/")).is_dir() else f"{plain}.py"


def group_of(path: str) -> str | None:
    """The group that mutates this staged path (``*`` within one directory, as in a shell)."""
    return next((name for name, g in GROUPS.items() if any(_glob_match(path, p) for p in g.only)), None)


def _glob_match(path: str, pattern: str) -> bool:
    parts, globs = path.split("/"), pattern.split("/")
    return len(parts) == len(globs) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, globs, strict=True))


def run_changed(args: argparse.Namespace) -> int:
    """--changed: the mutants of the functions changed since the base, every one of which must be killed
    (or listed as equivalent)."""
    start = time.monotonic()
    base = mutation_diff.resolve_base(ROOT, args.changed_since or os.environ.get("MUTATION_BASE") or None)
    change = mutation_diff.changed_functions(ROOT, base.rev)
    print(f"mutation --changed: base {base.rev[:10]}, {base.why}")
    for module, lines in sorted(change.module_level.items()):
        print(f"  {module}: lines {lines} changed outside any function (mutmut mutates function bodies only)")
    if not change.functions:
        print("no function of functions/qpay changed: nothing to mutate")
        return 0
    files: list[str] = []
    tests: list[str] = []
    for module, functions in sorted(change.functions.items()):
        path = module_path(module)
        group = group_of(path)
        print(f"  {module} [{group}]: {', '.join(sorted(functions))}")
        if group is None:
            print(f"FAIL: {path} is in no mutation group of infra/tools/mutation.py: add it to one")
            return 1
        files.append(path)
        tests += [t for t in GROUPS[group].tests if t not in tests]
    work = BUILD / "changed"
    stage(work, files, tests)
    generate(work)
    prefixes = tuple(change.mutant_prefixes())
    names = [n for n in sorted(load_results(work)) if n.startswith(prefixes)]
    if not names:
        print("the changed functions have no mutants (decorated, or nothing mutmut mutates)")
        return 0
    per_function = Counter(function_of(n) for n in names)
    print(f"{len(names)} mutants in {len(per_function)} functions; tests: {' '.join(tests)}")
    if len(names) > args.max_mutants:
        for function, n in per_function.most_common():
            print(f"  {n:>5}  {function}")
        print(
            f"FAIL: {len(names)} mutants exceed the budget of {args.max_mutants} (--max-mutants) for mutating "
            f"what changed since {base.why}. Run the full `make mutation`, then move the base forward: tag "
            "the release (v*) or record the green run (make mutation ARGS=--record-baseline), or give a "
            "nearer base (MUTATION_BASE=<rev>)."
        )
        return 2
    code = run_mutmut(work, args.max_children, names, quiet=True)
    if code != 0:
        print(f"mutmut run exited with {code} (its output: {work / 'mutmut.log'})")
        return code
    selected = set(names)
    results = {n: s for n, s in load_results(work).items() if n in selected}
    return report(score(work, results, whole_modules=False), time.monotonic() - start, threshold=100.0)


def record_baseline() -> int:
    """After a green full run: HEAD is a commit all of whose functions were mutated, the base of
    --changed from now on (tests/mutation/baseline.json, to be committed)."""
    dirty = mutation_diff.git(ROOT, "status", "--porcelain", "--", "functions/qpay", "tests").strip()
    if dirty:
        print(f"not recording the baseline: uncommitted changes, so HEAD is not what was mutated:\n{dirty}")
        return 1
    head = mutation_diff.git(ROOT, "rev-parse", "HEAD").strip()
    doc = {"commit": head, "groups": sorted(GROUPS), "recorded": time.strftime("%Y-%m-%d")}
    (ROOT / mutation_diff.MUTATION_BASELINE).write_text(json.dumps(doc, indent=2) + "\n")
    print(f"recorded {head[:10]} in {mutation_diff.MUTATION_BASELINE}: commit it")
    return 0


def run_group(name: str, args: argparse.Namespace) -> int:
    group = GROUPS[name]
    work = BUILD / name
    start = time.monotonic()
    only, tests = args.only or group.only, args.tests or group.tests
    print(f"\n=== group {name}: {' '.join(only)}; tests: {' '.join(tests)}", flush=True)
    if not args.report_only:
        names = list(args.mutants)
        if args.reuse or names:
            # killed stays killed (more tests cannot revive a mutant); everything else runs again,
            # including the mutants of functions whose code changed since (mutmut resets those)
            sync_tests(work)
            generate(work)
            names = names or sorted(n for n, s in load_results(work).items() if s not in KILLED)
        else:
            stage(work, only, [t for t in tests if (ROOT / t).exists()])
        code = run_mutmut(work, args.max_children, names)
        if code != 0:
            print(f"mutmut run exited with {code}")
            return code
    code = report(score(work, load_results(work)), time.monotonic() - start)
    print(f"group {name}: {time.monotonic() - start:.0f} s wall")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--group", action="append", choices=sorted(GROUPS), help="only this group (repeatable)")
    parser.add_argument("--only", nargs="+", help="globs of files to mutate (under src/), for one --group")
    parser.add_argument("--tests", nargs="+", help="the test selection, for one --group")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep build/mutation/<group>: re-run the mutants not killed, with the current tests",
    )
    parser.add_argument("--report-only", action="store_true", help="score the last run without running")
    parser.add_argument("--changed", action="store_true", help="mutate only the functions changed since the base")
    parser.add_argument("--changed-since", metavar="REV", help="the base of --changed (implies --changed)")
    parser.add_argument("--max-mutants", type=int, default=MAX_MUTANTS, help="--changed fails loud above this many")
    parser.add_argument("--record-baseline", action="store_true", help="after a green full run: record HEAD")
    parser.add_argument("mutants", nargs="*", help="re-run only these mutants (implies --reuse; one --group)")
    args = parser.parse_args(argv)

    if args.changed or args.changed_since:
        return run_changed(args)
    groups = args.group or list(GROUPS)
    if (args.only or args.tests or args.mutants) and len(groups) != 1:
        parser.error("--only, --tests and mutant names need exactly one --group")
    codes = [run_group(name, args) for name in groups]
    failed = [name for name, code in zip(groups, codes, strict=True) if code != 0]
    if failed:
        print(f"\nFAIL: groups {', '.join(failed)}")
        return 1
    if args.record_baseline:
        if args.group or args.only or args.report_only or args.reuse:
            print("--record-baseline needs a full run from scratch of every group")
            return 1
        return record_baseline()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
