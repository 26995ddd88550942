"""make deploy (infra/tools/deploy.py): the ConfigRevision it passes is the one the version tests prove
publishes every change; it refuses what would deploy stale or fail half-way (review D1, D6, D7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.tools import deploy
from infra.tools.revision import REVISION_PARAMETER, artefact_digests, config_revision
from tests.deploy.conftest import ROOT
from tests.support.template import template

GIVEN = [
    "ProcessingChannelId=pc_" + "a" * 26,
    "StorefrontSuccessUrl=https://shop.example.qa/orders/result",
    "StorefrontFailureUrl=https://shop.example.qa/orders/result",
]


@pytest.fixture
def build_dir(tmp_path: Path) -> Path:
    for name in ("CreatePaymentFunction", "DependenciesLayer"):
        (tmp_path / "build" / name / "qpay").mkdir(parents=True)
        (tmp_path / "build" / name / "qpay" / "x.py").write_text(f"NAME = {name!r}\n")
    return tmp_path / "build"


def _plan(build_dir: Path, extra: list[str], samconfig: Path = ROOT / "samconfig.toml") -> tuple[str, list[str]]:
    revision, command, _ = deploy.plan(
        env="prod", samconfig=samconfig, template_path=ROOT / "template.yaml", build_dir=build_dir, extra=extra
    )
    return revision, command


def test_the_command_carries_samconfigs_values_yours_and_the_revision(build_dir: Path) -> None:
    revision, command = _plan(build_dir, GIVEN)
    assert command[:5] == ["sam", "deploy", "--config-env", "prod", "--parameter-overrides"]
    pairs = dict(p.split("=", 1) for p in command[5:])
    assert pairs["Stage"] == "prod" and pairs["ProcessingChannelId"] == "pc_" + "a" * 26
    assert pairs[REVISION_PARAMETER] == revision and len(revision) == 16
    assert revision == config_revision(template(), pairs, artefact_digests(build_dir))


def test_the_revision_follows_the_code_and_the_values(build_dir: Path) -> None:
    first, _ = _plan(build_dir, GIVEN)
    assert _plan(build_dir, GIVEN)[0] == first
    assert _plan(build_dir, [*GIVEN, "ExpiryWindowSeconds=1500"])[0] != first
    (build_dir / "DependenciesLayer" / "qpay" / "x.py").write_text("NAME = 'new'\n")
    assert _plan(build_dir, GIVEN)[0] != first


def test_a_function_parameter_without_a_value_is_refused_by_name(build_dir: Path) -> None:
    with pytest.raises(deploy.DeployError, match="StorefrontFailureUrl"):
        _plan(build_dir, GIVEN[:2])


def test_no_build_no_deploy(tmp_path: Path) -> None:
    with pytest.raises(deploy.DeployError, match="sam build"):
        _plan(tmp_path / "missing", GIVEN)


@pytest.mark.parametrize("name", ["qpay-payments-production-me", "1qpay", "qpay_prod"])
def test_a_stack_name_the_template_cannot_create_is_refused(name: str) -> None:
    """D7: TraceSamplingRule is <stack>-traces, at most 32 characters."""
    with pytest.raises(deploy.DeployError, match="stack name"):
        deploy.check_stack_name(name)


def test_the_longest_stack_name_fits_every_derived_name() -> None:
    name = "q" * deploy.MAX_STACK_NAME
    deploy.check_stack_name(name)
    assert len(f"{name}-traces") <= 32  # X-Ray rule name
    assert len(f"{name}-reconcile") <= 64 and len(f"{name}-refunds") <= 80  # schedule, state machine


def test_both_environments_fit_and_send_an_empty_revision_to_plain_sam_deploy() -> None:
    for env in ("default", "prod"):
        config = deploy.samconfig_env(ROOT / "samconfig.toml", env)
        deploy.check_stack_name(config["stack_name"])
        assert f"{REVISION_PARAMETER}=" in config["parameter_overrides"]  # never UsePreviousValue
    assert deploy.samconfig_env(ROOT / "samconfig.toml", "prod").get("cached") is None  # build section
    assert "cached = false" in (ROOT / "samconfig.toml").read_text()


def test_prod_refuses_an_empty_revision() -> None:
    rule = template()["Rules"]["ProdDeploysPublishEveryChange"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": REVISION_PARAMETER}, ""]}]}


def test_dry_run_prints_both_commands(build_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--config-env", "prod", "--dry-run", "--build-dir", str(build_dir)]
    assert deploy.main([*args, *(x for p in GIVEN for x in ("--parameter", p))]) == 0
    out = capsys.readouterr().out
    assert "sam build --config-env prod --no-cached" in out and f"{REVISION_PARAMETER}=" in out
    assert deploy.main(args) == 1


@pytest.mark.parametrize(
    "value",
    [
        "StorefrontSuccessUrl=http://localhost:3000/r",
        "CheckoutBaseUrl=http://127.0.0.1:3001",
        "PublicBaseUrl=http://pay.example.qa",
    ],
)
def test_prod_with_a_local_value_is_refused_before_any_change_set(build_dir: Path, value: str) -> None:
    """D9: the template's patterns accept http://localhost for every Stage; make deploy refuses it in prod."""
    with pytest.raises(deploy.DeployError, match=value.split("=", maxsplit=1)[0]):
        _plan(build_dir, [*GIVEN, value])
