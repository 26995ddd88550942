"""What `make run` and `make test` install, and the one line they print when they cannot.

`.ci/sysdeps.sh` runs in a scratch copy of the repo with a PATH of fakes: which Debian packages are
"installed", whether we are root, whether apt-get exists (and what it was asked for)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from qpay_local.stack import REPO_ROOT


@pytest.fixture
def box(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(REPO_ROOT / ".ci" / "sysdeps.sh", repo / ".ci" / "sysdeps.sh")
    (repo / "package-lock.json").write_text("{}")
    (repo / "node_modules").mkdir()
    time.sleep(0.01)
    (repo / "node_modules" / ".package-lock.json").write_text("{}")  # installed, newer than the lock
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname",):
        os.symlink(shutil.which(tool), bin_dir / tool)
    calls = tmp_path / "apt-calls"

    class Box:
        def fake(self, name, script="exit 0"):
            path = bin_dir / name
            path.write_text(f"#!/bin/bash\n{script}\n")
            path.chmod(0o755)

        def run(self, *args, uid=1000):
            self.fake("id", f"echo {uid}")
            return subprocess.run(
                ["/bin/bash", str(repo / ".ci" / "sysdeps.sh"), *args],
                env={"PATH": str(bin_dir)},
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )

        def remove(self, name):
            (bin_dir / name).unlink()

        def apt_calls(self):
            return calls.read_text() if calls.exists() else ""

        def stale_npm_package(self):
            (repo / "node_modules" / ".package-lock.json").unlink()

    b = Box()
    b.fake("apt-get", f'echo "$@" >> {calls}')
    return b


def one_line(proc):
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr.strip()


def test_make_run_needs_nothing_without_ddb_local(box):
    proc = box.run("run")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert box.apt_calls() == ""


def test_make_run_with_ddb_local_needs_java_only(box):
    line = one_line(box.run("run", "--ddb-local"))
    assert line == "make: missing system packages (not root): sudo apt-get install default-jre-headless"
    assert box.apt_calls() == ""  # never tried as a user


def test_make_test_names_every_missing_package_in_one_line(box):
    box.stale_npm_package()
    proc = box.run("test")
    assert proc.returncode == 1
    assert (
        one_line(proc)
        == "make: missing system packages (not root): sudo apt-get install chromium default-jre-headless php-cli php-curl npm"
    )


def test_without_apt_get_even_as_root(box):
    box.remove("apt-get")
    line = one_line(box.run("test", uid=0))
    assert line == (
        "make: missing system packages (no apt-get): sudo apt-get install chromium default-jre-headless php-cli php-curl"
    )


def test_as_root_apt_get_installs_what_is_missing(box):
    proc = box.run("test", uid=0)
    assert proc.returncode == 0, proc.stderr
    assert "install -y -qq --no-install-recommends chromium default-jre-headless php-cli php-curl" in box.apt_calls()


def test_present_packages_just_work(box):
    for tool in ("chromium", "java", "php", "npm"):
        box.fake(tool)
    proc = box.run("test")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert box.apt_calls() == ""
    assert box.run("run", "--ddb-local").returncode == 0


def test_php_without_its_curl_extension_gets_php_curl(box):
    for tool in ("chromium", "java", "npm"):
        box.fake(tool)
    box.fake("php", 'case "$*" in *extension_loaded*) exit 1;; esac; exit 0')
    assert one_line(box.run("test")) == "make: missing system packages (not root): sudo apt-get install php-curl"


def test_python_too_old_or_without_venv(box):
    box.fake("python3", 'case "$*" in *version_info*) exit 1;; *platform*) echo 3.9.2;; esac')
    line = one_line(box.run("python"))
    assert line.startswith("make: Python >= 3.11 is needed (python3 is 3.9.2)")
    box.fake("python3", 'case "$*" in *ensurepip*) exit 1;; esac; exit 0')
    assert one_line(box.run("python")) == "make: missing system packages (not root): sudo apt-get install python3-venv"


def test_makefile_run_installs_no_browser():
    dry = subprocess.run(
        ["make", "-n", "run"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    ).stdout
    assert "sysdeps.sh run" in dry and "--ddb-local" not in dry and "sysdeps.sh test" not in dry
    dry = subprocess.run(
        ["make", "-n", "run", "ARGS=--ddb-local --api-port 3100"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    assert "sysdeps.sh run --ddb-local" in dry
    dry = subprocess.run(
        ["make", "-n", "test"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "sysdeps.sh test" in dry


def test_make_help_lists_the_targets():
    out = subprocess.run(["make", "help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    for target in ("run", "trigger", "test", "replay", "lint", "help"):
        assert f"make {target} " in out
