"""Build the Lambda artefacts the way they run on ``python3.13`` / ``arm64``, from any machine.

Called by ``functions/Makefile`` (SAM's ``BuildMethod: makefile``) with the folder SAM passes as
``ARTIFACTS_DIR``. Needs only a Python 3.9+ with pip (any version, any CPU) and, the first time, PyPI:

- ``layer OUT``: the third-party packages of ``functions/requirements.txt`` as CPython 3.13
  manylinux2014 aarch64 wheels (``pip install --platform … --only-binary=:all: --target OUT/python``),
  and ``OUT/botocore_data/endpoints.json`` trimmed to the services the product calls
  (``trim_endpoints.py``, from the botocore pinned in ``build-requirements.txt``).
- ``code OUT``: the ``qpay`` package.

Both then compile checked-hash ``.pyc`` files (SAM zips carry 1980 timestamps, which invalidate
timestamp-based ones, so without them every cold start compiles every module it imports). Byte code
is version-specific, not CPU-specific: any CPython 3.13 compiles it (``PYTHON313``, ``python3.13`` on
``PATH``, or pyenv's). Without one the artefact is still complete and correct, only without ``.pyc``,
and the build says so.

Wheels are downloaded once into ``.tools/wheelhouse/`` (gitignored); later builds install offline.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FUNCTIONS = ROOT / "functions"
REQUIREMENTS = FUNCTIONS / "requirements.txt"
BUILD_REQUIREMENTS = HERE / "build-requirements.txt"
WHEELHOUSE = Path(os.environ.get("QPAY_WHEELHOUSE", ROOT / ".tools" / "wheelhouse"))

#: The Lambda runtime the template declares (Runtime: python3.13, Architectures: [arm64]).
PLATFORM = ["--platform", "manylinux2014_aarch64", "--implementation", "cp", "--python-version", "3.13"]
PYTHON_VERSION = (3, 13)
#: Packages the product never imports (``tests/deploy/test_artefact.py`` imports everything ``qpay``
#: imports, lazily or not, and fails if any module it loads is under one of these): no ``.pyc`` for
#: them, which keeps the layer's zip under the 6 MB budget (all .pyc: 6.9 MB; none: 4.1 MB).
PYC_SKIP = (
    "aws_lambda_powertools/event_handler",
    "aws_lambda_powertools/logging/formatters",
    "aws_lambda_powertools/metrics/provider/datadog",
    "aws_lambda_powertools/utilities/auth_alpha",
    "aws_lambda_powertools/utilities/circuit_breaker",
    "aws_lambda_powertools/utilities/data_classes/appsync",
    "aws_lambda_powertools/utilities/data_masking",
    "aws_lambda_powertools/utilities/feature_flags",
    "aws_lambda_powertools/utilities/idempotency",
    "aws_lambda_powertools/utilities/kafka",
    "aws_lambda_powertools/utilities/metadata",
    "aws_lambda_powertools/utilities/parser/envelopes",
    "aws_lambda_powertools/utilities/streaming",
    "aws_lambda_powertools/utilities/validation",
    "pydantic/deprecated",
    "pydantic/experimental",
    "pydantic/v1",
)
#: Files nothing at run time reads: Powertools' Swagger UI assets (1.7 MB; served only by
#: ``enable_swagger()``, which the product never calls) and type stubs.
PRUNE = ("aws_lambda_powertools/event_handler/openapi/swagger_ui/*.js",
         "aws_lambda_powertools/event_handler/openapi/swagger_ui/*.css", "**/*.pyi")
#: Set to 1 to build without CPython 3.13 (no .pyc: slower cold starts); otherwise the build fails.
ALLOW_NO_PYC = "QPAY_ALLOW_NO_PYC"
#: Where the runtime puts each artefact (tracebacks name these paths).
LAYER_ROOT = "/opt"
CODE_ROOT = "/var/task"


def log(message: str) -> None:
    print(f"build_artefact: {message}", file=sys.stderr, flush=True)


def pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    subprocess.run(cmd, check=True, env={**os.environ, "PIP_ROOT_USER_ACTION": "ignore"})  # noqa: S603 - fixed arguments


def wheels(requirements: Path, *, platform: bool) -> list[str]:
    """pip options that install ``requirements`` from the wheelhouse, downloading what it lacks."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    target_args = [*PLATFORM, "--only-binary=:all:"] if platform else ["--no-deps"]
    offline = ["--no-index", "--find-links", str(WHEELHOUSE)]
    probe = [sys.executable, "-m", "pip", "--disable-pip-version-check", "download", "-q", "--dest"]
    check = subprocess.run(  # noqa: S603 - fixed arguments
        [*probe, tempfile.mkdtemp(), *offline, *target_args, "-r", str(requirements)], capture_output=True
    )
    if check.returncode != 0:
        log(f"downloading {requirements.name} into {WHEELHOUSE}")
        pip("download", "-q", "--dest", str(WHEELHOUSE), *target_args, "-r", str(requirements))
    return [*offline, *target_args, "-r", str(requirements)]


def install_dependencies(target: Path) -> None:
    pip("install", "-q", "--no-compile", "--no-warn-conflicts", "--target", str(target), *wheels(REQUIREMENTS, platform=True))
    for junk in target.glob("*.dist-info"):
        # keep METADATA/RECORD-free installs small: the runtime never reads dist-info except
        # through importlib.metadata, which Powertools uses for its own version only
        for name in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json"):
            (junk / name).unlink(missing_ok=True)
    shutil.rmtree(target / "bin", ignore_errors=True)
    for pattern in PRUNE:
        for path in target.glob(pattern):
            path.unlink()


def trimmed_endpoints(out_dir: Path) -> None:
    """The trimmed endpoints file, from the botocore version pinned for the build (pure Python)."""
    with tempfile.TemporaryDirectory() as tmp:
        pip("install", "-q", "--no-compile", "--no-warn-conflicts", "--target", tmp, *wheels(BUILD_REQUIREMENTS, platform=False))
        subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, str(HERE / "trim_endpoints.py"), str(out_dir), "--source", str(Path(tmp) / "botocore/data")],
            check=True,
        )


def copy_package(target: Path) -> None:
    shutil.copytree(
        FUNCTIONS / "qpay", target / "qpay", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True
    )


def python313() -> str | None:
    """A CPython 3.13 to compile byte code with, or None."""
    candidates = [os.environ.get("PYTHON313", ""), shutil.which("python3.13") or ""]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(p) for p in sorted(pyenv_root.glob("versions/3.13*/bin/python3.13"), reverse=True)]
    for exe in filter(None, candidates):
        probe = subprocess.run(  # noqa: S603 - a version probe
            [exe, "-c", "import sys; print(sys.implementation.name, *sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 and probe.stdout.split() == ["cpython", *map(str, PYTHON_VERSION)]:
            return exe
    return None


def compile_pyc(tree: Path, runtime_root: str, skip: tuple[str, ...] = ()) -> bool:
    exe = python313()
    if exe is None:
        message = (
            "no CPython 3.13 found (set PYTHON313 or put python3.13 on PATH): the artefact would have no .pyc, "
            "so every cold start compiles what it imports"
        )
        if os.environ.get(ALLOW_NO_PYC) != "1":
            # stdout: sam build shows it (stderr is hidden when the build succeeds; review D5)
            print(f"build_artefact: FAILED: {message}; set {ALLOW_NO_PYC}=1 to build without", flush=True)
            raise SystemExit(1)
        print(f"build_artefact: WARNING: {message} ({ALLOW_NO_PYC}=1)", flush=True)
        return False
    exclude = ["-x", "|".join(re.escape(f"{tree}/{p}/") for p in skip)] if skip else []
    subprocess.run(  # noqa: S603 - fixed arguments
        [exe, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "checked-hash", *exclude]
        + ["-s", str(tree), "-p", runtime_root, str(tree)],
        check=True,
    )
    return True


def build_layer(out: Path) -> None:
    install_dependencies(out / "python")
    trimmed_endpoints(out / "botocore_data")
    compile_pyc(out / "python", f"{LAYER_ROOT}/python", PYC_SKIP)


def build_code(out: Path) -> None:
    copy_package(out)
    compile_pyc(out, CODE_ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("kind", choices=("layer", "code"))
    parser.add_argument("out", type=Path, help="the folder SAM passes as ARTIFACTS_DIR")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    (build_layer if args.kind == "layer" else build_code)(out)
    log(f"{args.kind} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
