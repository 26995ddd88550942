"""D1: every change reaches every function. A function behind an alias runs the alias's version, and
SAM publishes a version only when the Version's logical id changes. These tests transform the template
with the real translator (the gate's venv) under different parameter values, a different layer,
different code and a different template, with the ConfigRevision ``make deploy`` computes
(infra/tools/revision.py), and fail if any function keeps its version id; they pin that an unchanged
configuration keeps every id (no empty deployment), and that a plain ``sam deploy`` (no revision) still
publishes code and layer changes."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from cfnlint.decode import decode

from infra.tools.revision import REVISION_PARAMETER, config_revision, function_parameters
from tests.deploy.conftest import GATE, ROOT, STACK, print_report
from tests.support.template import template

TEMPLATE = (ROOT / "template.yaml").read_text()

#: A complete set of values for a stack (those without a default must be given).
BASE = {
    "Stage": "prod",
    "CheckoutBaseUrl": "https://api.checkout.com",
    "ProcessingChannelId": "pc_" + "a" * 26,
    "SingleChannelKey": "false",
    "StorefrontOrigins": "https://shop.example.qa",
    "StorefrontSuccessUrl": "https://shop.example.qa/orders/result",
    "StorefrontFailureUrl": "https://shop.example.qa/orders/result",
    "PublicBaseUrl": "https://pay.example.qa",
}

#: Another value for every parameter a function's configuration reads. A parameter added to a
#: function without an entry here fails test_every_function_parameter_is_covered.
CHANGED = {
    "Stage": "dev",
    "CheckoutBaseUrl": "https://abc123.api.checkout.com",
    "ProcessingChannelId": "pc_" + "b" * 26,
    "SingleChannelKey": "true",
    "StorefrontSuccessUrl": "https://shop.example.qa/orders/thanks",
    "StorefrontFailureUrl": "https://shop.example.qa/orders/sorry",
    "PublicBaseUrl": "https://payments.example.qa",
    "ExpiryWindowSeconds": "1500",
    "FunctionTracing": "Active",
    "CustomerDataRetentionDays": "60",
    "ReconcileWindowDays": "2",
    "CheckoutListsPendingRefunds": "true",
    # UseEdge (the origin-verify secret the public functions require) reads these two
    "Edge": "none",
    "EdgeWebAclArn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/qpay-prod-edge-acl/0a1b2c3d",
}

#: Run in the gate's venv: transform each (template, parameters) and print {function: version id}.
_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
import validate
out = []
for case in json.load(sys.stdin):
    doc = validate.transform(
        validate.Path(case["template"]), region=validate.DEFAULT_REGION, account=validate.DEFAULT_ACCOUNT,
        stack=sys.argv[2], parameters=case["parameters"],
    )
    res = doc["Resources"]
    out.append({r["Properties"]["FunctionName"]["Ref"]: k for k, r in res.items() if r["Type"] == "AWS::Lambda::Version"})
print(json.dumps(out))
"""


#: Digests of the built artefacts (``.aws-sam/build/<LogicalId>``) as make deploy reads them.
ARTEFACTS = {"CreatePaymentFunction": "c" * 64, "DependenciesLayer": "d" * 64}


def _parameters(
    values: dict[str, str], artefacts: dict[str, str] = ARTEFACTS, source: Path | None = None
) -> dict[str, str]:
    """The values plus the revision ``make deploy`` computes from them (infra/tools/deploy.py)."""
    doc = template() if source is None else dict(decode(str(source))[0])
    return {**values, REVISION_PARAMETER: config_revision(doc, values, artefacts)}


def _version_ids(tool_python: Path, cases: list[tuple[Path, dict[str, str]]]) -> list[dict[str, str]]:
    stdin = json.dumps([{"template": str(t), "parameters": p} for t, p in cases])
    done = subprocess.run(
        [str(tool_python), "-c", _SCRIPT, str(GATE.parent), STACK],
        input=stdin,
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    ids: list[dict[str, str]] = json.loads(done.stdout)
    return ids


def _variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    assert TEMPLATE.count(old) == 1, old
    path = tmp_path / f"{name}.yaml"
    path.write_text(TEMPLATE.replace(old, new))
    return path


def test_every_function_parameter_is_covered() -> None:
    assert set(function_parameters(template())) == set(CHANGED)


def test_the_revision_needs_the_artefacts_and_every_parameter() -> None:
    with pytest.raises(ValueError, match="sam build"):
        config_revision(template(), BASE, {})
    missing = {k: v for k, v in BASE.items() if k != "StorefrontSuccessUrl"}
    with pytest.raises(KeyError, match="StorefrontSuccessUrl"):
        config_revision(template(), missing, ARTEFACTS)


@pytest.fixture(scope="module")
def versions(tool_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("versions")
    base = ROOT / "template.yaml"
    layer = _variant(
        tmp, "layer", "      ContentUri: functions/\n", "      ContentUri: s3://qpay-gate-artifacts/layer-2\n"
    )
    code = _variant(tmp, "code", "    CodeUri: functions/\n", "    CodeUri: s3://qpay-gate-artifacts/code-2\n")
    memory = tmp / "memory.yaml"  # every function's MemorySize doubled (Globals' and the per-function ones)
    memory.write_text(re.sub(r"MemorySize: (\d+)", lambda m: f"MemorySize: {2 * int(m.group(1))}", TEMPLATE))
    no_revision = {**BASE, REVISION_PARAMETER: ""}
    cases = {
        "base": (base, _parameters(BASE)),
        "base again": (base, _parameters(BASE)),
        "layer": (layer, _parameters(BASE, {**ARTEFACTS, "DependenciesLayer": "e" * 64})),
        "code": (code, _parameters(BASE, {**ARTEFACTS, "CreatePaymentFunction": "f" * 64})),
        "template": (memory, _parameters(BASE, source=memory)),
        **{f"param {p}": (base, _parameters({**BASE, p: v})) for p, v in CHANGED.items()},
        # a dev stack deployed by plain `sam deploy` (no revision): SAM's own hash of all properties
        "plain base": (base, no_revision),
        "plain layer": (layer, no_revision),
        "plain code": (code, no_revision),
        "plain template": (memory, no_revision),
    }
    return dict(zip(cases, _version_ids(tool_python, list(cases.values())), strict=True))


def test_every_function_is_versioned(versions: dict[str, dict[str, str]]) -> None:
    functions = {k for k, r in template()["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert set(versions["base"]) == functions


def test_the_same_configuration_keeps_every_version(versions: dict[str, dict[str, str]]) -> None:
    assert versions["base again"] == versions["base"]


@pytest.mark.parametrize(
    "change",
    ["layer", "code", "template", *(f"param {p}" for p in CHANGED), "plain layer", "plain code", "plain template"],
)
def test_a_change_publishes_a_new_version_of_every_function(versions: dict[str, dict[str, str]], change: str) -> None:
    base, changed = versions["plain base" if change.startswith("plain") else "base"], versions[change]
    same = sorted(fn for fn in base if changed.get(fn) == base[fn])
    print_report(f"{change}: {len(base) - len(same)} of {len(base)} functions get a new version")
    assert not same, f"{change}: these functions keep their old version (and configuration): {same}"
