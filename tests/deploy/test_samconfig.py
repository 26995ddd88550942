"""samconfig.toml: prod can never deploy on local or sandbox values, and what the user must set is
left out so CloudFormation refuses the change set by name (the template has no defaults for it)."""

from __future__ import annotations

import re
import tomllib

from tests.deploy.conftest import ROOT
from tests.support.template import template

CONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())


def overrides(env: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in CONFIG[env]["deploy"]["parameters"]["parameter_overrides"])


def test_prod_has_no_local_or_sandbox_value() -> None:
    prod = overrides("prod")
    assert prod["Stage"] == "prod"
    assert prod["CheckoutBaseUrl"].startswith("https://") and "sandbox" not in prod["CheckoutBaseUrl"]
    assert not any(re.search(r"localhost|127\.0\.0\.1|http://", v) for v in prod.values())


def test_what_the_user_must_set_is_left_out_so_cloudformation_refuses() -> None:
    params = template()["Parameters"]
    for env in ("default", "prod"):
        given = overrides(env)
        for name in ("ProcessingChannelId", "StorefrontSuccessUrl", "StorefrontFailureUrl", "StorefrontOrigins"):
            assert name not in given, (env, name)  # shown commented out with CHANGE
            assert f'# "{name}=' in (ROOT / "samconfig.toml").read_text()
        for name in given:
            assert name in params, (env, name)
    for name in ("StorefrontSuccessUrl", "StorefrontFailureUrl", "StorefrontOrigins"):
        assert "Default" not in params[name]
    assert params["ProcessingChannelId"]["Default"] == ""  # required through the ProcessingChannelRequired rule


def test_people_confirm_change_sets_and_ci_is_told_how_not_to() -> None:
    for env in ("default", "prod"):
        assert CONFIG[env]["deploy"]["parameters"]["confirm_changeset"] is True
    assert "--no-confirm-changeset" in (ROOT / "samconfig.toml").read_text()
