"""The Lambda artefacts, built exactly as ``sam build`` builds them (``make -C functions
build-<LogicalId> ARTIFACTS_DIR=…``), hold what the python3.13/arm64 runtime needs and nothing else,
and fit the size budget. The first run downloads the aarch64 wheels from PyPI into .tools/wheelhouse."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from infra.build import build_artefact
from tests.deploy.conftest import ROOT, print_report
from tests.support.template import template

MAGIC_313 = (3571).to_bytes(2, "little") + b"\r\n"  # importlib.util.MAGIC_NUMBER of CPython 3.13
CHECKED_HASH = 0b11  # PEP 552 flags: hash-based, check the source
EM_AARCH64 = 183
BUDGET = 6_000_000  # bytes, zipped: what one function loads (its code + the layer)
NOT_SHIPPED = (
    "moto",
    "pytest",
    "boto3",
    "botocore",
    "s3transfer",
    "checkout_sdk",
    "flask",
    "werkzeug",
    "cko_sim",
    "pydantic",
    "httpx",
)


def make(
    target: str, out: Path, env: dict[str, str] | None = None, *, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", "functions", target, f"ARTIFACTS_DIR={out}"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert (done.returncode == 0) is ok, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("artefact")
    env = {**os.environ, "QPAY_ALLOW_NO_PYC": "1"}  # where no 3.13 exists, the byte-code tests skip
    make("build-DependenciesLayer", out / "layer", env=env)
    make("build-CreatePaymentFunction", out / "function", env=env)
    return {"layer": out / "layer", "function": out / "function"}


def zipped(*trees: Path) -> int:
    """Size of one zip of the trees (deflate, as sam package zips an artefact)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for tree in trees:
            for path in sorted(tree.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(tree).as_posix())
    return len(buf.getvalue())


def pyc_of(py: Path) -> Path:
    return py.parent / "__pycache__" / f"{py.stem}.cpython-313.pyc"


def test_the_makefile_builds_every_function_of_the_template() -> None:
    resources = template()["Resources"]
    functions = sorted(k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function")
    makefile = (ROOT / "functions/Makefile").read_text()
    listed = re.search(r"^FUNCTIONS := (.*?)(?<!\\)$", makefile, re.M | re.S)
    assert listed is not None
    assert sorted(listed.group(1).replace("\\\n", " ").split()) == functions
    for name in functions:
        assert resources[name]["Metadata"]["BuildMethod"] == "makefile", name
    layer = resources["DependenciesLayer"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert template()["Globals"]["Function"]["Layers"] == [{"Ref": "DependenciesLayer"}]


def test_the_runtime_closure_is_pinned_to_the_tested_versions() -> None:
    """functions/requirements.txt pins every package the layer holds to uv.lock's version."""
    lock = (ROOT / "uv.lock").read_text()
    locked = dict(re.findall(r'^name = "([^"]+)"\nversion = "([^"]+)"', lock, re.M))
    for line in (ROOT / "functions/requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            assert locked[name] == version, name


def test_the_function_artefact_is_the_qpay_package_with_checked_hash_byte_code(built: dict[str, Path]) -> None:
    fn = built["function"]
    assert sorted(p.name for p in fn.iterdir()) == ["qpay"]
    sources = sorted((fn / "qpay").rglob("*.py"))
    assert len(sources) == len(list((ROOT / "functions/qpay").rglob("*.py")))
    assert (fn / "qpay/handlers/webhook.py").exists()
    if build_artefact.python313() is None:
        pytest.skip("no CPython 3.13 here: the build ships no .pyc (test_a_build_without_python_313 covers it)")
    for py in sources:
        header = pyc_of(py).read_bytes()[:8]
        assert header[:4] == MAGIC_313, py
        assert int.from_bytes(header[4:8], "little") == CHECKED_HASH, py  # SAM's 1980 mtimes cannot stale it


def test_the_layer_holds_cp313_aarch64_wheels_and_nothing_for_tests(built: dict[str, Path]) -> None:
    site = built["layer"] / "python"
    assert sorted(p.name for p in built["layer"].iterdir()) == ["botocore_data", "python"]
    # every compiled extension is CPython 3.13 for aarch64 (today there is none: the layer is pure Python
    # since no handler imports pydantic; a dependency that brings one must be the right wheel)
    for ext in site.rglob("*.so"):
        assert ".cpython-313-aarch64-linux-gnu." in ext.name or ext.name.endswith(".abi3.so"), ext
        elf = ext.read_bytes()[:20]
        assert elf[:4] == b"\x7fELF" and elf[4] == 2  # 64-bit
        assert int.from_bytes(elf[18:20], "little") == EM_AARCH64, ext
    wheels = {
        p.name.removesuffix(".dist-info").split("-")[0].lower().replace("_", "-"): p.name.removesuffix(
            ".dist-info"
        ).split("-")[1]
        for p in site.glob("*.dist-info")
    }
    pins = dict(
        line.split("==")
        for line in (ROOT / "functions/requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert wheels == pins
    present = {p.name for p in site.iterdir()}
    assert not present & set(NOT_SHIPPED), present & set(NOT_SHIPPED)
    assert not list(built["layer"].rglob("*.pyi"))
    assert not list(site.glob("aws_lambda_powertools/event_handler/openapi/swagger_ui/*.js"))


def test_the_layer_ships_the_trimmed_endpoints(built: dict[str, Path]) -> None:
    doc = json.loads((built["layer"] / "botocore_data/endpoints.json").read_text())
    kept = {k for p in doc["partitions"] for k in p["services"]}
    assert kept == {"dynamodb", "streams.dynamodb", "secretsmanager", "states", "events"}
    env = template()["Globals"]["Function"]["Environment"]["Variables"]
    assert env["AWS_DATA_PATH"] == "/opt/botocore_data"  # where Lambda mounts the layer's botocore_data/


def _imported_by_the_product() -> set[str]:
    """Third-party modules loaded by everything the handlers can import: the handler modules, and every
    qpay module they import (eagerly or inside a function, followed transitively), then whatever those
    imports load in turn. Tools that never run in Lambda (``qpay.api.openapi``, ``qpay.ops``) stay out
    unless a handler imports them."""
    probe = r"""
import ast, importlib, json, os, pathlib, sys
os.environ.update(TABLE_NAME="qpay-probe", SECRET_ID="probe", AWS_DEFAULT_REGION="me-central-1", STAGE="dev",
                  CHECKOUT_SINGLE_CHANNEL_KEY="true")
root = pathlib.Path("functions")

def imports_of(module):
    path = root.joinpath(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out

def is_qpay_module(name):
    path = root.joinpath(*name.split("."))
    return name.split(".")[0] == "qpay" and (path.is_dir() or path.with_suffix(".py").exists())

todo = [f"qpay.handlers.{p.stem}" for p in (root / "qpay/handlers").glob("*.py") if p.stem != "__init__"]
seen, third_party = set(), set()
while todo:
    module = todo.pop()
    if module in seen:
        continue
    seen.add(module)
    parts = module.split(".")
    todo += [".".join(parts[:i]) for i in range(1, len(parts)) if is_qpay_module(".".join(parts[:i]))]
    for name in imports_of(module):
        if is_qpay_module(name):
            todo.append(name)
        elif not name.startswith("qpay"):
            third_party.add(name)
for name in sorted(seen) + sorted(third_party):
    try:
        importlib.import_module(name)
    except ImportError:
        pass  # "from pkg import function" names a function, not a module
print(json.dumps(sorted(getattr(m, "__file__", None) or "" for m in list(sys.modules.values()))))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": "functions"},
    )
    files = json.loads(done.stdout.splitlines()[-1])
    return {f.split("site-packages/", 1)[1] for f in files if "site-packages/" in f and f.endswith(".py")}


def test_every_module_the_product_imports_has_byte_code(built: dict[str, Path]) -> None:
    """PYC_SKIP (the packages left uncompiled to keep the zip small) holds none of them."""
    if build_artefact.python313() is None:
        pytest.skip("no CPython 3.13 here: the build ships no .pyc")
    site = built["layer"] / "python"
    shipped = {m for m in _imported_by_the_product() if (site / m).exists()}
    assert len(shipped) >= 10  # the probe found the layer's modules (PyJWT and its kin; no Powertools any more)
    skipped = [m for m in shipped if any(m.startswith(p + "/") for p in build_artefact.PYC_SKIP)]
    assert not skipped, f"imported but left without .pyc: remove from PYC_SKIP: {skipped}"
    missing = [m for m in shipped if not pyc_of(site / m).exists()]
    assert not missing, missing


def test_the_zips_fit_the_budget(built: dict[str, Path]) -> None:
    layer, code = zipped(built["layer"]), zipped(built["function"])
    one_zip = zipped(built["layer"], built["function"])
    n = sum(1 for v in template()["Resources"].values() if v["Type"] == "AWS::Serverless::Function")
    print_report(
        f"layer zip {layer:,} B + function zip {code:,} B = {layer + code:,} B loaded per function",
        f"per release: layer + {n} functions = {layer + n * code:,} B; "
        f"one self-contained zip per function would be {one_zip:,} B x {n} = {one_zip * n:,} B",
    )
    assert layer + code <= BUDGET


def test_a_build_without_python_313(tmp_path: Path) -> None:
    """No Python 3.13 and no Docker: refused unless QPAY_ALLOW_NO_PYC=1; then the artefact is complete,
    only without byte code, and says so on stdout."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    host = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert host.exists() and sys.version_info[:2] != (3, 13)
    (bin_dir / "python3").symlink_to(host)
    make_exe = shutil.which("make")
    assert make_exe is not None
    (bin_dir / "make").symlink_to(make_exe)
    env: dict[str, Any] = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
    }
    if shutil.which("python3.13", path=env["PATH"]) is not None:
        pytest.skip("/usr/bin has a python3.13: cannot hide it")
    # D5: refused, on stdout (what sam build shows), unless allowed
    refused = make("build-WebhookFunction", tmp_path / "refused", env=env, ok=False)
    assert "FAILED: no CPython 3.13 found" in refused.stdout and "QPAY_ALLOW_NO_PYC=1" in refused.stdout
    done = make("build-WebhookFunction", tmp_path / "out", env={**env, "QPAY_ALLOW_NO_PYC": "1"})
    assert "WARNING: no CPython 3.13 found" in done.stdout
    out = tmp_path / "out"
    assert (out / "qpay/handlers/webhook.py").exists()
    assert not list(out.rglob("*.pyc"))
