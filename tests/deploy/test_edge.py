"""D4: a protected edge by default in prod. Read from the TRANSFORMED template (what CloudFormation
creates) and the us-east-1 companion (infra/edge/edge-us-east-1.yaml): every public route is behind
CloudFront and the web ACL, execute-api is off behind it, prod cannot deploy without it unless it says
it brings its own, and every route has its own throttle."""

from __future__ import annotations

import ast
import re
from typing import Any

import pytest
from cfnlint.decode import decode

from tests.deploy.conftest import ROOT, resources_of
from tests.support.template import template

COMPANION = ROOT / "infra/edge/edge-us-east-1.yaml"


@pytest.fixture(scope="module")
def companion() -> dict[str, Any]:
    doc, matches = decode(str(COMPANION))
    assert not matches
    return dict(doc)


def _routes(transformed: dict[str, Any]) -> dict[str, bool]:
    """'METHOD /path' -> public (no IAM authorizer), from the API definition CloudFormation creates."""
    (api,) = resources_of(transformed, "AWS::ApiGatewayV2::Api").values()
    out = {}
    for path, methods in api["Properties"]["Body"]["paths"].items():
        for method, op in methods.items():
            if method.startswith("x-"):
                continue
            iam = any("AWS_IAM" in s for s in op.get("security", []))
            out[f"{method.upper()} {path}"] = not iam
    return out


def test_every_public_route_is_behind_the_edge(transformed: dict[str, Any]) -> None:
    res = transformed["Resources"]
    routes = _routes(transformed)
    assert sum(routes.values()) == 5 and routes["POST /payments/{id}/refunds"] is False
    dist = res["EdgeDistribution"]
    assert dist["Condition"] == "UseEdge"
    config = dist["Properties"]["DistributionConfig"]
    assert config["WebACLId"] == {"Ref": "EdgeWebAclArn"}
    assert "CacheBehaviors" not in config  # no path is routed another way
    default = config["DefaultCacheBehavior"]
    assert set(default["AllowedMethods"]) >= {m.split(" ")[0] for m in routes}
    assert default["ViewerProtocolPolicy"] == "https-only"
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Ref": "OriginDomainName"} and default["TargetOriginId"] == origin["Id"]
    mapping = res["OriginMapping"]["Properties"]
    assert mapping["DomainName"] == {"Ref": "OriginDomain"} and mapping["ApiId"] == {"Ref": "HttpApi"}
    # the origin cannot be reached around the web ACL on execute-api
    (api,) = resources_of(transformed, "AWS::ApiGatewayV2::Api").values()
    (server,) = api["Properties"]["Body"]["servers"]
    assert server["x-amazon-apigateway-endpoint-configuration"] == {
        "disableExecuteApiEndpoint": {"Fn::If": ["UseEdge", True, False]}
    }
    assert transformed["Conditions"]["UseEdge"] == {
        "Fn::And": [
            {"Fn::Equals": [{"Ref": "Edge"}, "cloudfront-waf"]},
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "EdgeWebAclArn"}, ""]}]},
        ]
    }
    for name in ("OriginDomain", "OriginMapping"):
        assert res[name]["Condition"] == "UseEdge"
    assert transformed["Outputs"]["WebhookUrl"]["Value"]["Fn::If"][0] == "UseEdge"


def test_prod_needs_the_edge_unless_it_brings_its_own() -> None:
    t = template()
    assert t["Parameters"]["Edge"]["Default"] == "cloudfront-waf"
    rule = t["Rules"]["ProdHasAnEdge"]
    assert rule["RuleCondition"] == {
        "Fn::And": [{"Fn::Equals": [{"Ref": "Stage"}, "prod"]}, {"Fn::Equals": [{"Ref": "Edge"}, "cloudfront-waf"]}]
    }
    text = str(rule["Assertions"])
    for name in ("EdgeWebAclArn", "EdgeDomainName", "EdgeCertificateArn", "OriginDomainName", "OriginCertificateArn"):
        assert name in text and t["Parameters"][name]["Default"] == ""


def _path_matches(statement: dict[str, Any], path: str) -> bool:
    match = statement["ByteMatchStatement"]
    needle, how = match["SearchString"], match["PositionalConstraint"]
    return path == needle if how == "EXACTLY" else path.startswith(needle)


def test_the_web_acl_has_the_managed_groups_and_a_rate_rule_for_every_public_route(
    companion: dict[str, Any], transformed: dict[str, Any]
) -> None:
    acl = companion["Resources"]["WebAcl"]["Properties"]
    assert acl["Scope"] == "CLOUDFRONT"
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in acl["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert managed == {"AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesKnownBadInputsRuleSet"}
    rate = [r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert all(
        r["Action"] == {"Block": {}} and r["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP" for r in rate
    )
    for route, public in _routes(transformed).items():
        if not public:
            continue
        path = re.sub(r"\{[^}]+\}", "pay_123", route.split(" ", 1)[1])
        covering = [
            r["Name"] for r in rate if _path_matches(r["Statement"]["RateBasedStatement"]["ScopeDownStatement"], path)
        ]
        assert covering, f"{route}: no rate-based rule covers it"
    assert set(companion["Outputs"]) == {"WebAclArn", "CertificateArn"}


def test_every_route_has_its_own_throttle(transformed: dict[str, Any]) -> None:
    (stage,) = resources_of(transformed, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["RouteSettings"]
    assert set(settings) == set(_routes(transformed))
    for route, s in settings.items():
        assert {"ThrottlingBurstLimit", "ThrottlingRateLimit"} <= set(s), route
    assert settings["POST /payments/{id}/refunds"]["ThrottlingRateLimit"] == 5  # the back office, not the public


_INTEGRATION = re.compile(r"functions/\$\{(\w+)Aliaslive\}/invocations")
_SECRET_REF = "{{resolve:secretsmanager:${OriginVerifySecret}:SecretString:current"


def _route_functions(transformed: dict[str, Any]) -> dict[str, bool]:
    """Function logical id -> serves a public route (from the integrations of the API definition)."""
    (api,) = resources_of(transformed, "AWS::ApiGatewayV2::Api").values()
    out: dict[str, bool] = {}
    for methods in api["Properties"]["Body"]["paths"].values():
        for method, op in methods.items():
            if method.startswith("x-"):
                continue
            match = _INTEGRATION.search(op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"])
            assert match, op
            public = not any("AWS_IAM" in s for s in op.get("security", []))
            out[match.group(1)] = out.get(match.group(1), False) or public
    return out


def _reads_origin_secret(role: dict[str, Any]) -> bool:
    return "OriginVerifySecret" in str(role["Properties"].get("Policies"))


def test_cloudfront_sends_the_origin_verify_secret_and_every_public_function_requires_it(
    transformed: dict[str, Any],
) -> None:
    res = transformed["Resources"]
    (origin,) = res["EdgeDistribution"]["Properties"]["DistributionConfig"]["Origins"]
    assert origin["CustomOriginConfig"]["OriginKeepaliveTimeout"] == 60  # docs/deploy.md, "Edge latency"
    (header,) = origin["OriginCustomHeaders"]
    assert header["HeaderName"] == "x-origin-verify"
    pinned, generated = header["HeaderValue"]["Fn::If"][1:]
    assert header["HeaderValue"]["Fn::If"][0] == "OriginVerifyPinned"
    assert pinned["Fn::Sub"] == _SECRET_REF + "::${OriginVerifyVersionId}}}"  # a rotation changes the reference
    assert generated["Fn::Sub"] == _SECRET_REF + "}}"
    secret = res["OriginVerifySecret"]
    assert secret["Condition"] == "UseEdge"
    generate = secret["Properties"]["GenerateSecretString"]
    assert generate["GenerateStringKey"] == "current" and generate["PasswordLength"] >= 32
    assert transformed["Conditions"]["OriginVerifyPinned"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "OriginVerifyVersionId"}, ""]}]
    }

    routes = _route_functions(transformed)
    assert sorted(fn for fn, public in routes.items() if public) == [
        "CreatePaymentFunction",
        "GetPaymentFunction",
        "PaymentReturnFunction",
        "WebhookFunction",
    ]
    for logical_id, props in (
        (k, r["Properties"]) for k, r in resources_of(transformed, "AWS::Lambda::Function").items()
    ):
        env = props["Environment"]["Variables"]
        role = res[props["Role"]["Fn::GetAtt"][0]]
        if routes.get(logical_id):
            # under the edge the function names the secret and may read it; without it, no check
            assert env["ORIGIN_VERIFY_SECRET_ID"] == {"Fn::If": ["UseEdge", {"Ref": "OriginVerifySecret"}, ""]}
            assert {"Fn::If": ["UseEdge", {"Ref": "OriginVerifySecret"}, {"Ref": "AWS::NoValue"}]} in [
                r
                for p in role["Properties"]["Policies"]
                for s in p["PolicyDocument"]["Statement"]
                if s["Action"] == "secretsmanager:GetSecretValue"
                for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
            ]
            # and its handler checks it (functions/qpay/api/origin.py), before anything else
            module = props["Handler"].rsplit(".", 1)[0].replace(".", "/")
            source = (ROOT / "functions" / f"{module}.py").read_text()
            assert "deps.origin_check().verify(event)" in source, logical_id
        else:  # the refund route (SigV4 on the origin domain) and the background functions
            assert "ORIGIN_VERIFY_SECRET_ID" not in env and not _reads_origin_secret(role), logical_id


def test_refusals_at_the_origin_raise_an_alarm_only_behind_the_edge() -> None:
    """The alarm counts the metric the origin check emits (a rename on either side fails here)."""
    source = (ROOT / "functions/qpay/api/origin.py").read_text()
    emitted = {
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "metric"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    alarm = template()["Resources"]["OriginVerifyRejectionsAlarm"]
    assert alarm["Condition"] == "UseEdge"
    assert emitted and alarm["Properties"]["MetricName"] in emitted
