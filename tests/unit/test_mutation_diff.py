"""``make mutation-diff`` mutates the functions a change touches: a planted diff maps to the right mutmut
function names, and the base revision is chosen the same way on a clean clone with no remote."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from infra.tools import mutation_diff
from infra.tools.mutation_diff import functions_touched, parse_zero_context_diff

SOURCE = '''"""A module."""

LIMIT = 10


def plain(x: int) -> int:
    y = x + 1
    return y


@decorated
def with_decorator() -> None:
    pass


class Store:
    """A class."""

    TABLE = "t"

    def put(self) -> None:
        def helper() -> int:
            return 1

        helper()

    @staticmethod
    def key() -> str:
        return "k"

    class Inner:
        def deep(self) -> None:
            pass


async def later() -> None:
    pass
'''


def test_a_line_inside_a_function_names_that_function() -> None:
    assert functions_touched(SOURCE, {7}) == ({"x_plain"}, [])


def test_a_method_is_named_with_its_class() -> None:
    assert functions_touched(SOURCE, {28}) == ({"xǁStoreǁkey"}, [])


def test_a_nested_function_belongs_to_the_function_it_is_in() -> None:
    assert functions_touched(SOURCE, {23}) == ({"xǁStoreǁput"}, [])


def test_a_decorator_line_belongs_to_its_function() -> None:
    assert functions_touched(SOURCE, {11}) == ({"x_with_decorator"}, [])


def test_a_nested_class_and_an_async_function() -> None:
    names, _ = functions_touched(SOURCE, {32, 37})
    assert names == {"xǁStore.Innerǁdeep", "x_later"}


def test_module_level_and_class_level_code_is_reported_not_named() -> None:
    names, outside = functions_touched(SOURCE, {3, 19, 7})
    assert names == {"x_plain"}
    assert outside == [3, 19]


def test_blank_lines_and_lines_past_the_end_are_not_code() -> None:
    last = len(SOURCE.splitlines())
    assert functions_touched(SOURCE, {4, 5, last + 1}) == (set(), [])


DIFF = """diff --git a/functions/qpay/a.py b/functions/qpay/a.py
index 1111111..2222222 100644
--- a/functions/qpay/a.py
+++ b/functions/qpay/a.py
@@ -7 +7 @@ def plain(x: int) -> int:
-    y = x - 1
+    y = x + 1
@@ -20,2 +19,0 @@ class Store:
-        noop()
-        noop()
@@ -30,0 +30,3 @@ class Store:
+        a = 1
+        b = 2
+        c = 3
diff --git a/functions/qpay/gone.py b/functions/qpay/gone.py
deleted file mode 100644
--- a/functions/qpay/gone.py
+++ /dev/null
@@ -1,3 +0,0 @@
-def f():
-    pass
-
diff --git a/functions/qpay/new.py b/functions/qpay/new.py
new file mode 100644
--- /dev/null
+++ b/functions/qpay/new.py
@@ -0,0 +1,2 @@
+def g():
+    pass
"""


def test_the_zero_context_diff_gives_the_new_side_lines() -> None:
    touched = parse_zero_context_diff(DIFF)
    # a change counts its line; a pure deletion counts both sides of the gap; an addition its lines
    assert touched == {"functions/qpay/a.py": {7, 19, 20, 30, 31, 32}, "functions/qpay/new.py": {1, 2}}


def test_deleting_the_last_statements_of_a_function_touches_it() -> None:
    source = "def f():\n    a()\n\n\ndef g():\n    pass\n"
    # lines 3-4 of the old f were deleted: git reports "+2,0" (after line 2 of the new file)
    touched = parse_zero_context_diff("+++ b/functions/qpay/m.py\n@@ -3,2 +2,0 @@\n")
    assert functions_touched(source, touched["functions/qpay/m.py"]) == ({"x_f"}, [])


def test_module_names_as_mutmut_names_them() -> None:
    assert mutation_diff.module_name("functions/qpay/service/refunds.py") == "qpay.service.refunds"
    assert mutation_diff.module_name("functions/qpay/adapters/store/__init__.py") == "qpay.adapters.store"


# ------------------------------------------------------------------ a real repository, no remote
def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


MODULE = "functions/qpay/service/m.py"
V1 = "def a():\n    return 1\n\n\ndef b():\n    return 2\n\n\nclass C:\n    def m(self):\n        return 3\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    commit(tmp_path, {MODULE: V1, "README.md": "x\n"}, "one")
    return tmp_path


def test_a_change_since_the_release_tag_names_its_functions(repo: Path) -> None:
    commit(repo, {MODULE: V1.replace("return 1", "return 10")}, "two")
    git(repo, "tag", "v1.0.0")
    commit(repo, {MODULE: V1.replace("return 1", "return 10").replace("return 3", "return 30")}, "three")
    base = mutation_diff.resolve_base(repo)
    assert base.rev == git(repo, "rev-parse", "v1.0.0")
    assert "v1.0.0" in base.why
    change = mutation_diff.changed_functions(repo, base.rev)
    assert change.functions == {"qpay.service.m": {"xǁCǁm"}}
    assert change.mutant_prefixes() == ["qpay.service.m.xǁCǁm__mutmut_"]


def test_uncommitted_and_untracked_changes_count(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    (repo / MODULE).write_text(V1.replace("return 2", "return 20"))
    (repo / "functions/qpay/service/new.py").write_text("X = 1\n\n\ndef fresh():\n    return X\n")
    change = mutation_diff.changed_functions(repo, head)
    assert change.functions == {"qpay.service.m": {"x_b"}, "qpay.service.new": {"x_fresh"}}
    assert change.module_level == {"qpay.service.new": [1]}


def test_a_change_outside_functions_qpay_names_nothing(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    commit(repo, {"README.md": "y\n", "sandbox/x.py": "def s():\n    pass\n"}, "docs")
    change = mutation_diff.changed_functions(repo, head)
    assert change.functions == {}
    assert change.module_level == {}


def test_the_newest_recorded_point_wins(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "infra").mkdir()
    (repo / "infra/release-baseline.json").write_text(json.dumps({"commit": first[:7], "release": "v0"}))
    second = commit(repo, {MODULE: V1.replace("return 1", "return 10")}, "two")
    assert mutation_diff.resolve_base(repo).rev == first  # the release; no tag, no recorded mutation run
    (repo / "tests/mutation").mkdir(parents=True)
    (repo / "tests/mutation/baseline.json").write_text(json.dumps({"commit": second}))
    commit(repo, {MODULE: V1.replace("return 1", "return 11")}, "three")
    base = mutation_diff.resolve_base(repo)
    assert base.rev == second  # the green mutation run is newer than the release
    assert "mutation" in base.why
    git(repo, "tag", "v0.0.1", first)
    assert mutation_diff.resolve_base(repo).rev == second  # an older tag does not move the base back


def test_a_recorded_commit_that_is_not_an_ancestor_is_ignored(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "side")
    side = commit(repo, {"README.md": "side\n"}, "side")
    git(repo, "checkout", "-q", "main")
    (repo / "tests/mutation").mkdir(parents=True)
    (repo / "tests/mutation/baseline.json").write_text(json.dumps({"commit": side}))
    for n in range(6):
        commit(repo, {MODULE: V1.replace("return 1", f"return {n}")}, f"c{n}")
    base = mutation_diff.resolve_base(repo)
    assert base.rev == git(repo, "rev-parse", "HEAD~5")
    assert "HEAD~5" in base.why


def test_a_short_history_falls_back_to_its_root(repo: Path) -> None:
    root = git(repo, "rev-parse", "HEAD")
    commit(repo, {MODULE: V1.replace("return 1", "return 10")}, "two")
    base = mutation_diff.resolve_base(repo)
    assert base.rev == root
    assert mutation_diff.changed_functions(repo, base.rev).functions == {"qpay.service.m": {"x_a"}}


def test_an_explicit_base_wins_and_a_bad_one_is_refused(repo: Path) -> None:
    root = git(repo, "rev-parse", "HEAD")
    commit(repo, {MODULE: V1.replace("return 2", "return 22")}, "two")
    git(repo, "tag", "v2")
    assert mutation_diff.resolve_base(repo, root).rev == root
    with pytest.raises(SystemExit, match="no such commit"):
        mutation_diff.resolve_base(repo, "nope")


def test_every_module_of_the_package_is_in_exactly_one_mutation_group() -> None:
    from infra.tools import mutation

    root = Path(__file__).resolve().parents[2]
    for path in sorted((root / "functions/qpay").rglob("*.py")):
        staged = "src/" + str(path.relative_to(root / "functions"))
        groups = [name for name, g in mutation.GROUPS.items() if any(mutation._glob_match(staged, p) for p in g.only)]
        if path.read_text().strip():
            assert len(groups) == 1, (staged, groups)
    assert mutation.group_of("src/qpay/adapters/store/refunds.py") == "store"
    assert mutation.group_of("src/qpay/adapters/checkout.py") == "adapters"
    assert mutation.module_path("qpay.adapters.store") == "src/qpay/adapters/store/__init__.py"
    assert mutation.module_path("qpay.service.refunds") == "src/qpay/service/refunds.py"
