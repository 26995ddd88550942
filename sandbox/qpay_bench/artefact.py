"""Build the Lambda artefact the way ``sam build`` does for this machine's architecture.

``functions/`` plus the runtime dependencies (functions/requirements.txt, resolved through the installed
distributions' metadata) and boto3/botocore (the Lambda runtime provides them), compiled to checked-hash
``.pyc`` and stamped with SAM's 1980 zip timestamps (which invalidate timestamp-based bytecode).
"""

from __future__ import annotations

import compileall
import hashlib
import os
import py_compile
import re
import shutil
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ZIP_EPOCH = 315532800  # 1980-01-01, what SAM's zip gives every file
RUNTIME_PROVIDED = ("boto3",)


def requirement_names(requirements: Path) -> list[str]:
    names = []
    for raw in requirements.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            names.append(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0])
    return names


def closure(names: list[str]) -> list[metadata.Distribution]:
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


def _stamp(dists: list[metadata.Distribution]) -> str:
    h = hashlib.sha256(sys.version.encode())
    for d in sorted(dists, key=lambda d: d.metadata["Name"]):
        h.update(f"{d.metadata['Name']}=={d.version}".encode())
    for path in sorted((ROOT / "functions").rglob("*.py")):
        h.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    return h.hexdigest()


def build(target: Path = ROOT / "build" / "bench-artefact") -> Path:
    """Build (or reuse an up-to-date build of) the artefact; returns the directory to put on sys.path."""
    dists = closure(requirement_names(ROOT / "functions" / "requirements.txt") + list(RUNTIME_PROVIDED))
    stamp = _stamp(dists)
    stamp_file = target / ".bench-stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return target
    shutil.rmtree(target, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "functions", target, ignore=ignore)
    for dist in dists:
        for file in dist.files or []:
            source = Path(str(dist.locate_file(file)))
            if ".." in file.parts or "__pycache__" in file.parts or file.suffix == ".pyc" or not source.is_file():
                continue
            dest = target / file
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
    for path in target.rglob("*"):
        os.utime(path, (ZIP_EPOCH, ZIP_EPOCH))
    mode = py_compile.PycInvalidationMode.CHECKED_HASH
    compileall.compile_dir(target, quiet=2, invalidation_mode=mode, workers=2)
    stamp_file.write_text(stamp)
    return target
