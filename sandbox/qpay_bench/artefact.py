"""Build the Lambda artefacts the way ``sam build`` does for this machine's architecture.

- The product: ``functions/`` plus the runtime dependencies (functions/requirements.txt, resolved
  through the installed distributions' metadata) and boto3/botocore (the Lambda runtime provides them).
- The peer (``sandbox/qpay_bench/peer`` as package ``peer``): the libraries a typical team deploys —
  Powertools with its tracer extra (aws-xray-sdk), pydantic, httpx, boto3.

Both are compiled to checked-hash ``.pyc`` and stamped with SAM's 1980 zip timestamps (which invalidate
timestamp-based bytecode). When ``infra/build/trim_endpoints.py`` exists it writes the trimmed botocore
``endpoints.json`` into the artefact (the directory ``AWS_DATA_PATH`` names); every measured process —
product, floors and peer alike — gets the same ``AWS_DATA_PATH``. The floors' code
(``qpay_bench/floorwork.py``) is compiled into each artefact as ``qpay_bench_floor``.
"""

from __future__ import annotations

import compileall
import hashlib
import os
import py_compile
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ZIP_EPOCH = 315532800  # 1980-01-01, what SAM's zip gives every file
RUNTIME_PROVIDED = ("boto3",)
PEER_REQUIREMENTS = ("aws-lambda-powertools", "aws-xray-sdk", "pydantic", "httpx", "boto3")
TRIM_SCRIPT = ROOT / "infra" / "build" / "trim_endpoints.py"
DEFAULT_DATA_DIR = "aws-data"  # inside the artefact, when the template does not name one


@dataclass(frozen=True)
class Artefact:
    path: Path  # the directory to put on sys.path (stands for /var/task)
    aws_data_path: Path | None  # the trimmed endpoints' directory, when the trim script exists


def requirement_names(requirements: Path) -> list[str]:
    names = []
    for raw in requirements.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            names.append(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0])
    return names


def closure(names: list[str] | tuple[str, ...]) -> list[metadata.Distribution]:
    """Installed distributions reachable from ``names`` (extras skipped; markers taken as installed)."""
    seen: dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a marker excluded it on this Python
        seen[name] = dist
        for req in dist.requires or []:
            if "extra ==" not in req:
                todo.append(re.split(r"[<>=!~\[; (]", req, maxsplit=1)[0])
    return list(seen.values())


def _stamp(dists: list[metadata.Distribution], sources: list[Path], data_dir: str | None) -> str:
    h = hashlib.sha256(sys.version.encode())
    h.update(str(data_dir).encode())
    for d in sorted(dists, key=lambda d: d.metadata["Name"]):
        h.update(f"{d.metadata['Name']}=={d.version}".encode())
    for path in sorted(sources):
        h.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    return h.hexdigest()


def _copy_dists(dists: list[metadata.Distribution], target: Path) -> None:
    for dist in dists:
        for file in dist.files or []:
            source = Path(str(dist.locate_file(file)))
            if ".." in file.parts or "__pycache__" in file.parts or file.suffix == ".pyc" or not source.is_file():
                continue
            dest = target / file
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)


def _finish(target: Path) -> None:
    """SAM's zip timestamps, then checked-hash bytecode (valid whatever the timestamps)."""
    for path in target.rglob("*"):
        os.utime(path, (ZIP_EPOCH, ZIP_EPOCH))
    mode = py_compile.PycInvalidationMode.CHECKED_HASH
    compileall.compile_dir(target, quiet=2, invalidation_mode=mode, workers=2)


def _trim_endpoints(target: Path, data_dir: str) -> Path | None:
    if not TRIM_SCRIPT.is_file():
        return None
    out = target / data_dir
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, str(TRIM_SCRIPT), str(out)], check=True, cwd=ROOT)
    written = sorted(out.rglob("endpoints.json"))
    if not written:
        raise RuntimeError(f"{TRIM_SCRIPT.relative_to(ROOT)} wrote no endpoints.json under {out}")
    return written[0].parent  # botocore's loader looks for <AWS_DATA_PATH>/endpoints.json


def _build(target: Path, dists: list[metadata.Distribution], code: dict[str, Path], data_dir: str | None) -> Artefact:
    sources = [p for src in code.values() for p in (src.rglob("*.py") if src.is_dir() else [src])]
    sources += [TRIM_SCRIPT] if TRIM_SCRIPT.is_file() else []
    stamp = _stamp(dists, sources, data_dir)
    stamp_file = target / ".bench-stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        found = sorted((target / data_dir).rglob("endpoints.json")) if data_dir and TRIM_SCRIPT.is_file() else []
        return Artefact(target, found[0].parent if found else None)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name, src in code.items():
        if src.is_dir():
            shutil.copytree(src, target / name, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(src, target / name)
    _copy_dists(dists, target)
    data = _trim_endpoints(target, data_dir) if data_dir else None
    _finish(target)
    stamp_file.write_text(stamp)
    return Artefact(target, data)


def build(target: Path = ROOT / "build" / "bench-artefact", data_dir: str | None = DEFAULT_DATA_DIR) -> Artefact:
    """The product's artefact (rebuilt only when its inputs changed)."""
    dists = closure(requirement_names(ROOT / "functions" / "requirements.txt") + list(RUNTIME_PROVIDED))
    code = {".": ROOT / "functions", "qpay_bench_floor.py": HERE / "floorwork.py"}
    return _build(target, dists, code, data_dir)


def build_peer(target: Path = ROOT / "build" / "bench-peer", data_dir: str | None = DEFAULT_DATA_DIR) -> Artefact:
    """The peer's artefact: the typical team's handlers and their libraries."""
    return _build(target, closure(PEER_REQUIREMENTS), {"peer": HERE / "peer"}, data_dir)
