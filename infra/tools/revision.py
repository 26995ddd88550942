"""The configuration revision: one hash of every parameter value the functions' configuration reads.

SAM names each function's ``AWS::Lambda::Version`` after a hash of the function's properties as
written in the template, with ``!Ref Param`` left unresolved (aws-sam-translator 1.115.0,
``SamFunction._construct_version``; aws/serverless-application-model#3820, still open). A changed
``ProcessingChannelId`` or storefront URL therefore publishes no new version: the alias keeps the old
configuration while ``$LATEST`` has the new one (shared/reviews/deploy.md, D1).

The one property SAM does resolve against the parameter values CloudFormation passes to the transform
is ``AutoPublishCodeSha256`` when it is a plain ``!Ref`` (``sam_resources.py``: ``resolve_parameter_refs
(self.AutoPublishCodeSha256)``; cfn-lint#3496 shows ``AutoPublishCodeSha256: !Ref GitCommit`` deploying).
Every function sets ``AutoPublishCodeSha256: !Ref ConfigRevision`` and this module computes that value.
A non-empty value REPLACES SAM's own hash (``LogicalIdGenerator.get_hash`` returns it as is), so the
revision covers everything a version is made of: the values of every parameter a function reads, the
function sections of the template (Globals.Function, each function, the layer) and the digests of the
built artefacts (``.aws-sam/build``: the function code and the layer). Any change yields new version
ids for every function; an unchanged set yields the same ids (no empty canary). SAM also appends the
revision to each function's Description, so ``$LATEST`` changes and Lambda can publish (a version of
unchanged configuration is refused: aws/serverless-application-model#1497). With an empty revision
(a dev stack deployed by plain ``sam deploy``) SAM's own hash applies: ``AutoPublishAliasAllProperties``
plus the layer's ``PublishLambdaVersion`` catch code, layer and template changes, not parameters.

Standard library only: it runs in the project's venv, the gate's venv and the deploy script.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: The parameter every function's ``AutoPublishCodeSha256`` refers to (never part of its own hash).
REVISION_PARAMETER = "ConfigRevision"
#: Length of the revision (hex characters): 64 bits are plenty to tell two configurations apart.
REVISION_LENGTH = 16

#: Function properties that are not a version's configuration (an alias, its deployment, the event
#: sources, the role's policies, concurrency): a parameter read only there needs no new version.
NOT_VERSIONED = frozenset(
    {
        "AutoPublishAlias",
        "AutoPublishCodeSha256",
        "DeploymentPreference",
        "Events",
        "Policies",
        "ReservedConcurrentExecutions",
        "ProvisionedConcurrencyConfig",
    }
)

_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9_:]+)(?:\.[A-Za-z0-9_.]+)?\}")


def referenced_names(value: Any) -> set[str]:
    """Names a value refers to: ``Ref`` targets, ``${Name}`` in ``Fn::Sub`` (parameters among them) and
    the conditions of ``Fn::If`` / ``Condition``."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        for key, arg in value.items():
            if key in ("Ref", "Condition") and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::If" and isinstance(arg, list) and arg and isinstance(arg[0], str):
                found.add(arg[0])
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                found |= set(_SUB_NAME.findall(str(text)))
            found |= referenced_names(arg)
    elif isinstance(value, list):
        for item in value:
            found |= referenced_names(item)
    return found


def function_parameters(template: Mapping[str, Any]) -> list[str]:
    """The template parameters a function's configuration reads (sorted), the revision parameter excluded."""
    params = set(template.get("Parameters") or {})
    sections = [(template.get("Globals") or {}).get("Function") or {}]
    sections += [
        res.get("Properties") or {}
        for res in (template.get("Resources") or {}).values()
        if res.get("Type") == "AWS::Serverless::Function"
    ]
    used: set[str] = set()
    for props in sections:
        used |= referenced_names({k: v for k, v in props.items() if k not in NOT_VERSIONED})
    # a value chosen by a condition changes with the parameters the condition reads (e.g. UseEdge)
    conditions = template.get("Conditions") or {}
    pending = [name for name in used if name in conditions]
    while pending:
        for name in referenced_names(conditions[pending.pop()]) - used:
            used.add(name)
            if name in conditions:
                pending.append(name)
    return sorted((used & params) - {REVISION_PARAMETER})


def effective_values(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """The value CloudFormation will use for each function parameter: the override, else the default.

    A parameter with neither raises ``KeyError`` naming it: without a value here the revision could
    not see it change (``UsePreviousValue`` would keep the old versions)."""
    params = template.get("Parameters") or {}
    values: dict[str, str] = {}
    for name in function_parameters(template):
        if name in overrides:
            values[name] = str(overrides[name])
        elif "Default" in params[name]:
            values[name] = str(params[name]["Default"])
        else:
            raise KeyError(f"parameter {name} has no value (pass it, e.g. in samconfig.toml parameter_overrides)")
    return values


def function_sections(template: Mapping[str, Any]) -> dict[str, Any]:
    """What a version is made of in the template: Globals.Function, every function's and layer's
    properties (those that are not a version's configuration left out)."""
    out: dict[str, Any] = {"Globals.Function": (template.get("Globals") or {}).get("Function") or {}}
    for logical_id, res in (template.get("Resources") or {}).items():
        kind = res.get("Type")
        if kind == "AWS::Serverless::Function":
            props = res.get("Properties") or {}
            out[logical_id] = {k: v for k, v in props.items() if k not in NOT_VERSIONED}
        elif kind == "AWS::Serverless::LayerVersion":
            out[logical_id] = res.get("Properties") or {}
    return out


def directory_digest(path: Path) -> str:
    """SHA-256 of a directory's files (relative paths and contents; timestamps do not count)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def artefact_digests(build_dir: Path) -> dict[str, str]:
    """Digest of each built resource under ``sam build``'s directory (``.aws-sam/build/<LogicalId>/``)."""
    return {d.name: directory_digest(d) for d in sorted(build_dir.iterdir()) if d.is_dir()}


def config_revision(template: Mapping[str, Any], overrides: Mapping[str, str], artefacts: Mapping[str, str]) -> str:
    """The ``ConfigRevision`` for these parameter values, template and artefact digests (hex)."""
    if not artefacts:
        raise ValueError("no artefact digests: the revision must see the code (run sam build first)")
    inputs = {
        "parameters": effective_values(template, overrides),
        "template": function_sections(template),
        "artefacts": dict(artefacts),
    }
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:REVISION_LENGTH]


def parse_overrides(items: Iterable[str]) -> dict[str, str]:
    """``Key=Value`` strings (samconfig ``parameter_overrides`` or the command line) as a dict."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"not Key=Value: {item!r}")
        out[key.strip()] = value.strip().strip('"')
    return out
