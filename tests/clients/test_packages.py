"""The three clients are packaged as each ecosystem expects and versioned with the API: the version in
package.json, pyproject.toml and composer.json, and each client's API_VERSION, is openapi.json's
info.version; the generated parts are what the generators make from the committed openapi.json today
(Node: openapi-typescript's schema and tsc's dist/; Python: openapi-python-client's package), so a
changed contract without regenerated clients fails here."""

from __future__ import annotations

import filecmp
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "clients"
API_VERSION = json.loads((ROOT / "openapi.json").read_text())["info"]["version"]
BIN = ROOT / "node_modules" / ".bin"


def test_every_package_is_versioned_with_the_api() -> None:
    assert json.loads((CLIENTS / "node" / "package.json").read_text())["version"] == API_VERSION
    assert tomllib.loads((CLIENTS / "python" / "pyproject.toml").read_text())["project"]["version"] == API_VERSION
    assert json.loads((CLIENTS / "php" / "composer.json").read_text())["version"] == API_VERSION
    assert f'API_VERSION = "{API_VERSION}"' in (CLIENTS / "node" / "src" / "index.ts").read_text()
    assert f'API_VERSION = "{API_VERSION}"' in (CLIENTS / "python" / "qpay_client" / "__init__.py").read_text()
    assert f"API_VERSION = '{API_VERSION}'" in (CLIENTS / "php" / "src" / "Client.php").read_text()


def test_the_php_client_needs_only_phps_own_extensions() -> None:
    requires = json.loads((CLIENTS / "php" / "composer.json").read_text())["require"]
    assert set(requires) == {"php", "ext-curl", "ext-hash", "ext-json"}  # Composer's registry is not needed
    used = {m for f in (CLIENTS / "php" / "src").glob("*.php") for m in re.findall(r"\buse (\w+)\\", f.read_text())}
    assert used <= {"QPay"}, used


def test_the_php_client_covers_the_merchants_operations() -> None:
    ops = {(p, m) for p, item in json.loads((ROOT / "openapi.json").read_text())["paths"].items() for m in item}
    merchant = {op for op in ops if not op[0].startswith(("/webhooks", "/payments/return"))}
    assert merchant == {("/payments", "post"), ("/payments/{id}", "get"), ("/payments/{id}/refunds", "post")}
    client = (CLIENTS / "php" / "src" / "Client.php").read_text()
    for method in ("function createPayment", "function getPayment", "function refund"):
        assert method in client


def _generate_python(out: Path) -> Path:
    config = out / "config.yaml"
    config.write_text(
        "post_hooks: []\nproject_name_override: qpay-client\npackage_name_override: qpay_client.generated\n"
    )
    target = out / "generated"
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(ROOT / "openapi.json"),
         "--meta", "none", "--output-path", str(target), "--config", str(config)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def _same_tree(a: Path, b: Path) -> list[str]:
    diff = filecmp.dircmp(a, b, ignore=["__pycache__"])
    out = [f"{a}/{n}" for n in diff.left_only + diff.right_only + diff.diff_files]
    for sub in diff.common_dirs:
        out += _same_tree(a / sub, b / sub)
    return out


def test_the_python_client_is_what_the_generator_makes_from_openapi_json(tmp_path: Path) -> None:
    fresh = _generate_python(tmp_path)
    assert _same_tree(CLIENTS / "python" / "qpay_client" / "generated", fresh) == [], (
        "regenerate: see clients/README.md"
    )


@pytest.mark.skipif(not (BIN / "tsc").exists(), reason="typescript from package.json (make test: npm ci)")
def test_the_node_client_is_built_from_its_source_and_openapi_json(tmp_path: Path) -> None:
    node = CLIENTS / "node"
    schema = tmp_path / "schema.ts"
    subprocess.run([str(BIN / "openapi-typescript"), str(ROOT / "openapi.json"), "-o", str(schema)],
                   capture_output=True, check=True, timeout=120)  # fmt: skip
    assert schema.read_text() == (node / "src" / "schema.ts").read_text(), "regenerate: see clients/README.md"
    shutil.copytree(node / "src", tmp_path / "src")
    shutil.copy(node / "tsconfig.json", tmp_path / "tsconfig.json")
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    done = subprocess.run([str(BIN / "tsc"), "-p", str(tmp_path / "tsconfig.json")], capture_output=True, text=True,
                          timeout=180, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr  # strict type check of the client's source
    assert _same_tree(node / "dist", tmp_path / "dist") == [], "rebuild: see clients/README.md"
