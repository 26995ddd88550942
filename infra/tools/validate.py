"""The deploy gate: what CloudFormation will do with ``template.yaml``, checked offline.

1. The real SAM transform (``samtranslator.translator.transform.transform``), the code CloudFormation
   runs server-side for ``Transform: AWS::Serverless-2016-10-31``. ``CodeUri``/``ContentUri``/
   ``DefinitionUri`` become ``s3://`` URIs as ``sam package`` makes them; managed policy names resolve
   through a fixed map (the IAM lookup the service does). A template the transform rejects fails here
   with the translator's own message, as ``sam deploy`` would fail at change-set creation.
2. cfn-lint on the TRANSFORMED template (cfn-lint 1.x never runs the translator). Errors and warnings
   fail the gate, except the warnings in ``ALLOWED_WARNINGS`` (each with its reason). Informational
   checks run too: those in ``FAILING_INFORMATIONAL`` fail the gate, the rest are printed.
3. cfn-lint on the companion templates (``infra/edge/*.yaml``, us-east-1).
4. statelint on every state machine's ASL file after its ``DefinitionSubstitutions`` (read from the
   transformed template) are applied the way the Step Functions resource provider applies them:
   textually, then parsed.

Runs in its own virtualenv (``make validate`` builds ``.tools/validate/`` from
``infra/tools/validate-requirements.txt``): aws-sam-translator pins a pydantic that the runtime's
does not match, so it never enters the project's environment. Exit status 0 = deployable as far as
these tools can tell; 1 = a problem, named on stderr.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

#: Parameters of the transform: what CloudFormation passes for a stack in me-central-1.
DEFAULT_REGION = "me-central-1"
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_STACK = "qpay-gate"

#: AWS managed policies a template may name in ``Policies`` (the service resolves names through IAM;
#: offline we keep the list). SAM adds the execution/X-Ray/stream/CodeDeploy ones by ARN itself.
MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "service-role/AWSLambdaBasicExecutionRole",
    "AWSLambdaDynamoDBExecutionRole": "service-role/AWSLambdaDynamoDBExecutionRole",
    "AWSLambdaSQSQueueExecutionRole": "service-role/AWSLambdaSQSQueueExecutionRole",
    "AWSXrayWriteOnlyAccess": "AWSXrayWriteOnlyAccess",
    "AWSCodeDeployRoleForLambda": "service-role/AWSCodeDeployRoleForLambda",
    "CloudWatchLambdaInsightsExecutionRolePolicy": "CloudWatchLambdaInsightsExecutionRolePolicy",
}

#: cfn-lint warnings that do not fail the gate: (rule, path) -> why. Every other warning fails.
ALLOWED_WARNINGS: dict[tuple[str, str], str] = {
    ("W2001", "Parameters/DeploymentType"): (
        "the SAM transform resolves DeploymentPreference.Type from the parameter's value (CloudFormation "
        "passes the real one), so the transformed template no longer references it"
    ),
}

#: Informational checks that fail the gate (the rest are printed only).
FAILING_INFORMATIONAL: dict[str, str] = {
    # I3011: stateful resource without DeletionPolicy/UpdateReplacePolicy. Fails only for the
    # resources whose loss loses money or keys (see STATEFUL_MUST_RETAIN); log groups and queues
    # of parked records are recreated empty by design and are reported, not failed.
    "I3011": "the payments table and the keys secret must survive stack deletion and replacement",
}
STATEFUL_MUST_RETAIN = ("AWS::DynamoDB::Table", "AWS::SecretsManager::Secret", "AWS::KMS::Key")


class GateError(Exception):
    """One problem that makes the template undeployable; the message names it."""


class PolicyLoader:
    """What ``transform()`` asks for managed policies: name -> ARN (``ManagedPolicyLoader.load``)."""

    def __init__(self, partition: str) -> None:
        self.partition = partition

    def load(self) -> dict[str, str]:
        return {name: f"arn:{self.partition}:iam::aws:policy/{path}" for name, path in MANAGED_POLICIES.items()}


def packaged(template: dict[str, Any], bucket: str = "qpay-gate-artifacts") -> dict[str, Any]:
    """The template as ``sam package`` uploads it: local code and definition paths become s3:// URIs."""
    doc = copy.deepcopy(template)

    def s3(path: Any) -> Any:
        if isinstance(path, str) and not path.startswith("s3://"):
            return f"s3://{bucket}/{path.strip('/').replace('/', '-') or 'root'}"
        return path

    fn_globals = (doc.get("Globals") or {}).get("Function") or {}
    if "CodeUri" in fn_globals:
        fn_globals["CodeUri"] = s3(fn_globals["CodeUri"])
    for res in (doc.get("Resources") or {}).values():
        props = res.get("Properties") or {}
        kind = res.get("Type")
        if kind == "AWS::Serverless::Function" and "CodeUri" in props:
            props["CodeUri"] = s3(props["CodeUri"])
        elif kind == "AWS::Serverless::LayerVersion" and "ContentUri" in props:
            props["ContentUri"] = s3(props["ContentUri"])
        elif kind == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
            props["DefinitionUri"] = s3(props["DefinitionUri"])
    return doc


def transform(
    template_path: Path,
    *,
    region: str,
    account: str,
    stack: str,
    partition: str = "aws",
    parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The SAM transform exactly as CloudFormation runs it; translator errors become a GateError.

    ``parameters`` are the stack's parameter values, which CloudFormation passes to the transform
    (SAM resolves ``!Ref`` to them in a few places, e.g. ``AutoPublishCodeSha256``); the rest take
    their defaults, as in the transform service."""
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    import logging  # noqa: PLC0415

    from samtranslator.public.exceptions import InvalidDocumentException  # noqa: PLC0415
    from samtranslator.translator.transform import transform as sam_transform  # noqa: PLC0415
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415

    logging.getLogger("samtranslator").setLevel(logging.ERROR)  # feature-toggle chatter
    template = packaged(yaml_parse(template_path.read_text(encoding="utf-8")))
    params: dict[str, Any] = {
        **(parameters or {}),
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::Partition": partition,
        "AWS::StackName": stack,
        "AWS::StackId": f"arn:{partition}:cloudformation:{region}:{account}:stack/{stack}/00000000-gate",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": [],
    }
    try:
        out: dict[str, Any] = sam_transform(template, params, PolicyLoader(partition))
    except InvalidDocumentException as exc:
        causes = [getattr(c, "message", str(c)) for c in getattr(exc, "causes", [])] or [str(exc)]
        raise GateError("the SAM transform rejects the template:\n  - " + "\n  - ".join(causes)) from None
    return out


def lint(transformed: dict[str, Any], region: str) -> tuple[list[str], list[str]]:
    """cfn-lint on the transformed template: (failures, notes)."""
    import cfnlint.api  # noqa: PLC0415

    matches = cfnlint.api.lint(
        json.dumps(transformed),
        config=cfnlint.api.ManualArgs(regions=[region], include_checks=["I"]),
    )
    failures: list[str] = []
    notes: list[str] = []
    resources = transformed.get("Resources", {})
    for m in matches:
        rule = m.rule.id
        path = "/".join(str(p) for p in (m.path or []))
        line = f"{rule} {path}: {m.message}"
        if rule.startswith("E"):
            failures.append(line)
        elif rule.startswith("W"):
            (notes if (rule, path) in ALLOWED_WARNINGS else failures).append(line)
        elif rule in FAILING_INFORMATIONAL:
            logical_id = str(m.path[1]) if m.path and len(m.path) > 1 else ""
            kind = resources.get(logical_id, {}).get("Type", "")
            (failures if kind in STATEFUL_MUST_RETAIN else notes).append(line)
        else:
            notes.append(line)
    return failures, notes


#: Companion stacks deployed beside the main one (the edge's web ACL and certificate in us-east-1).
COMPANIONS = "infra/edge"
COMPANION_REGION = "us-east-1"


def lint_companions(folder: Path) -> list[str]:
    """cfn-lint (errors and warnings) on every companion template, in the region it deploys to."""
    import cfnlint.api  # noqa: PLC0415

    failures = []
    for path in sorted(folder.glob("*.yaml")):
        matches = cfnlint.api.lint(
            path.read_text(encoding="utf-8"), config=cfnlint.api.ManualArgs(regions=[COMPANION_REGION])
        )
        failures += [
            f"{path.name}: {m.rule.id} {'/'.join(map(str, m.path or []))}: {m.message}"
            for m in matches
            if m.rule.id[0] in "EW"
        ]
    return failures


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def _substitution_value(value: Any, parameters: dict[str, Any], logical_id: str) -> Any:
    """A DefinitionSubstitutions value as CloudFormation would resolve it (ARNs become a plausible ARN)."""
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref" and arg in parameters:
            param = parameters[arg]
            if "Default" not in param:
                raise GateError(f"{logical_id}: DefinitionSubstitutions uses parameter {arg} without a default")
            return param["Default"]
        if fn in ("Ref", "Fn::GetAtt", "Fn::Sub"):
            target = arg[0] if isinstance(arg, list) else str(arg).split(".")[0]
            return f"arn:aws:lambda:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:function:gate-{target}"
    return value


def render_asl(path: Path, substitutions: dict[str, Any]) -> dict[str, Any]:
    """Substitute in the raw text, then parse (what the Step Functions resource provider does)."""
    import yaml  # noqa: PLC0415

    text = path.read_text(encoding="utf-8")
    missing = sorted({m for m in _PLACEHOLDER.findall(text) if m not in substitutions})
    if missing:
        raise GateError(f"{path.name}: placeholders without a DefinitionSubstitutions value: {missing}")
    text = _PLACEHOLDER.sub(lambda m: str(substitutions[m.group(1)]), text)
    doc = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    if not isinstance(doc, dict):
        raise GateError(f"{path.name}: not a state machine definition")
    return doc


def state_machines(template_path: Path, transformed: dict[str, Any]) -> list[tuple[str, Path, dict[str, Any]]]:
    """(logical id, ASL file, substitutions) for every state machine defined by a local file."""
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415

    source = yaml_parse(template_path.read_text(encoding="utf-8"))
    parameters = source.get("Parameters") or {}
    out = []
    for logical_id, res in (source.get("Resources") or {}).items():
        if res.get("Type") != "AWS::Serverless::StateMachine":
            continue
        uri = (res.get("Properties") or {}).get("DefinitionUri")
        if not isinstance(uri, str) or uri.startswith("s3://"):
            continue
        props = transformed["Resources"][logical_id]["Properties"]
        subs = {
            k: _substitution_value(v, parameters, logical_id)
            for k, v in (props.get("DefinitionSubstitutions") or {}).items()
        }
        out.append((logical_id, template_path.parent / uri, subs))
    return out


def check_state_machines(template_path: Path, transformed: dict[str, Any]) -> list[str]:
    from statelint.linter import Linter  # noqa: PLC0415

    problems = []
    for logical_id, path, subs in state_machines(template_path, transformed):
        for p in Linter.validate(render_asl(path, subs)):
            problems.append(f"{logical_id} ({path.name}): {p}")
    return problems


def summarise(notes: list[str]) -> list[str]:
    """One line per rule: ``I3011 (n): A, B, C`` instead of a line per property."""
    by_rule: dict[str, list[str]] = {}
    for note in notes:
        rule, _, rest = note.partition(" ")
        where = rest.split(":", 1)[0].split("/")
        by_rule.setdefault(rule, [])
        name = where[1] if len(where) > 1 else where[0]
        if name not in by_rule[rule]:
            by_rule[rule].append(name)
    return [f"{rule} ({len(names)}): {', '.join(names)}" for rule, names in by_rule.items()]


def run(
    template_path: Path,
    out: Path | None,
    *,
    region: str,
    account: str,
    stack: str,
    quiet: bool = False,
    parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The whole gate; raises GateError on the first stage that fails (later stages need its output)."""
    started = time.perf_counter()
    transformed = transform(template_path, region=region, account=account, stack=stack, parameters=parameters)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(transformed, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    failures, notes = lint(transformed, region)
    failures += [f"statelint {p}" for p in check_state_machines(template_path, transformed)]
    failures += lint_companions(template_path.parent / COMPANIONS)
    if not quiet:
        for note in summarise(notes):
            print(f"note: {note}", file=sys.stderr)
    if failures:
        raise GateError("the transformed template has problems:\n  - " + "\n  - ".join(failures))
    if not quiet:
        count = len(transformed.get("Resources", {}))
        where = f" -> {out}" if out else ""
        print(f"validate: {template_path.name} transforms to {count} resources{where}; cfn-lint and statelint clean")
        print(f"validate: {time.perf_counter() - started:.1f} s")
    return transformed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--out", type=Path, default=ROOT / "build/transformed.json")
    parser.add_argument("--region", default=DEFAULT_REGION)
    parser.add_argument("--account", default=DEFAULT_ACCOUNT)
    parser.add_argument("--stack-name", default=DEFAULT_STACK)
    parser.add_argument(
        "--parameter", action="append", default=[], metavar="KEY=VALUE", help="a stack parameter value (repeatable)"
    )
    args = parser.parse_args(argv)
    parameters = dict(p.split("=", 1) for p in args.parameter)
    try:
        run(
            args.template,
            args.out,
            region=args.region,
            account=args.account,
            stack=args.stack_name,
            parameters=parameters,
        )
    except GateError as exc:
        print(f"validate: FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
