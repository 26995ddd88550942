"""``make deploy``: ``sam build`` without its cache, then ``sam deploy`` with the ConfigRevision that
makes every change reach every function (infra/tools/revision.py, docs/deploy.md).

1. Refuses a prod deploy with a local or plain-http value (D9), and a stack name longer than 25 characters (the X-Ray sampling rule is ``<stack>-traces``,
   at most 32 characters; review D7) before anything is built.
2. ``sam build --no-cached``: a cached layer is reused even when its build scripts changed (D6).
3. The revision: every parameter value the functions read (samconfig's ``parameter_overrides`` for the
   environment, then ``--parameter``), the template's function sections and the digests of
   ``.aws-sam/build``. A function parameter without a value is refused by name: CloudFormation would
   otherwise reuse the previous value and the revision could not see it.
4. ``sam deploy --config-env ENV --parameter-overrides <samconfig's and yours> ConfigRevision=<rev>``.

``--dry-run`` prints the commands and the revision instead of running them. Runs in the gate's venv
(``make deploy`` builds it), which has cfn-lint's template decoder.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: infra/tools/deploy.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from infra.tools.revision import (
    REVISION_PARAMETER,
    artefact_digests,
    config_revision,
    parse_overrides,
)

ROOT = Path(__file__).resolve().parents[2]
#: ``${AWS::StackName}-traces`` must fit X-Ray's 32-character rule name (template.yaml, TraceSamplingRule).
MAX_STACK_NAME = 25
STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
#: What prod must never point at (the template's patterns allow http to localhost for every Stage; the
#: functions refuse it only at cold start: review D9).
LOCAL = re.compile(r"localhost|127\.0\.0\.1|\[::1\]|0\.0\.0\.0|http://", re.IGNORECASE)


class DeployError(Exception):
    """A reason not to deploy; the message names it."""


def samconfig_env(samconfig: Path, env: str) -> dict[str, Any]:
    """The merged ``global`` and ``deploy`` parameters of one samconfig environment."""
    doc = tomllib.loads(samconfig.read_text(encoding="utf-8"))
    if env not in doc:
        raise DeployError(f"{samconfig.name} has no environment {env!r} (have: {', '.join(sorted(doc))})")
    section = doc[env]
    return {**section.get("global", {}).get("parameters", {}), **section.get("deploy", {}).get("parameters", {})}


def check_stack_name(name: str) -> None:
    if not STACK_NAME.match(name):
        raise DeployError(f"stack name {name!r}: letters, digits and hyphens, starting with a letter")
    if len(name) > MAX_STACK_NAME:
        raise DeployError(
            f"stack name {name!r} has {len(name)} characters; at most {MAX_STACK_NAME} "
            f"(the X-Ray sampling rule {name}-traces must fit 32)"
        )


def check_prod_values(overrides: dict[str, str]) -> None:
    """Stage=prod: no value may be http or a local address (refused here, before any change set)."""
    if overrides.get("Stage") != "prod":
        return
    local = sorted(k for k, v in overrides.items() if LOCAL.search(v))
    if local:
        raise DeployError(f"Stage=prod with local or plain-http values: {', '.join(local)}")


def load_template(path: Path) -> dict[str, Any]:
    from cfnlint.decode import decode  # noqa: PLC0415 - the gate's venv and the project's both have it

    doc, matches = decode(str(path))
    if doc is None or matches:
        raise DeployError(f"{path.name} does not parse: {matches}")
    return dict(doc)


def plan(
    *,
    env: str,
    samconfig: Path,
    template_path: Path,
    build_dir: Path,
    extra: list[str],
) -> tuple[str, list[str], dict[str, str]]:
    """(revision, the ``sam deploy`` command, the overrides it passes) for an environment."""
    config = samconfig_env(samconfig, env)
    stack = str(config.get("stack_name", ""))
    check_stack_name(stack)
    listed = config.get("parameter_overrides", [])
    listed = shlex.split(listed) if isinstance(listed, str) else [str(x) for x in listed]
    overrides = {**parse_overrides(listed), **parse_overrides(extra)}
    overrides.pop(REVISION_PARAMETER, None)
    check_prod_values(overrides)
    if not build_dir.is_dir():
        raise DeployError(f"{build_dir} does not exist: run sam build first (make deploy does)")
    try:
        revision = config_revision(load_template(template_path), overrides, artefact_digests(build_dir))
    except KeyError as exc:
        raise DeployError(str(exc.args[0])) from None
    overrides[REVISION_PARAMETER] = revision
    command = ["sam", "deploy", "--config-env", env, "--parameter-overrides"]
    command += [f"{k}={v}" for k, v in overrides.items()]
    return revision, command, overrides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--config-env", default="default")
    parser.add_argument("--samconfig", type=Path, default=ROOT / "samconfig.toml")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--build-dir", type=Path, default=ROOT / ".aws-sam/build")
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--skip-build", action="store_true", help="use the existing .aws-sam/build")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)
    build = ["sam", "build", "--config-env", args.config_env, "--no-cached"]
    try:
        check_stack_name(str(samconfig_env(args.samconfig, args.config_env).get("stack_name", "")))
        if args.dry_run or args.skip_build:
            print("deploy: would run " + shlex.join(build) if args.dry_run else "deploy: using the existing build")
        else:
            subprocess.run(build, check=True, cwd=ROOT)  # noqa: S603 - the SAM CLI, fixed arguments
        revision, command, _ = plan(
            env=args.config_env,
            samconfig=args.samconfig,
            template_path=args.template,
            build_dir=args.build_dir,
            extra=args.parameter,
        )
    except (DeployError, subprocess.CalledProcessError) as exc:
        print(f"deploy: FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"deploy: {REVISION_PARAMETER}={revision}")
    print(("deploy: would run " if args.dry_run else "deploy: ") + shlex.join(command))
    if args.dry_run:
        return 0
    return subprocess.run(command, check=False, cwd=ROOT).returncode  # noqa: S603 - the SAM CLI


if __name__ == "__main__":
    sys.exit(main())
