"""infra/tools/origin_verify.py against moto's Secrets Manager and CloudFront: a rotation keeps the old
value accepted until CloudFront sends the new one, refuses to start twice, and refuses to finish while
the distribution still sends another value; no value is ever printed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.tools import origin_verify

REGION = "me-central-1"
FIRST = "f" * 64


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, str]]:
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        sm = session.client("secretsmanager")
        arn = sm.create_secret(Name="qpay-prod-origin-verify", SecretString=json.dumps({"current": FIRST}))["ARN"]
        yield session, sm, arn


def _distribution(session: Any, value: str) -> str:
    cloudfront = session.client("cloudfront", region_name="us-east-1")
    config = {
        "CallerReference": f"qpay-test-{value[:8]}",
        "Comment": "qpay test",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "api",
                    "DomainName": "origin.pay.example.qa",
                    "CustomHeaders": {
                        "Quantity": 1,
                        "Items": [{"HeaderName": "x-origin-verify", "HeaderValue": value}],
                    },
                    "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
                }
            ],
        },
        "DefaultCacheBehavior": {"TargetOriginId": "api", "ViewerProtocolPolicy": "https-only", "MinTTL": 0},
    }
    return str(cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"])


def _doc(sm: Any, arn: str, **kwargs: str) -> dict[str, str]:
    return dict(json.loads(sm.get_secret_value(SecretId=arn, **kwargs)["SecretString"]))


def test_rotate_then_finish(world: tuple[Any, Any, str], capsys: pytest.CaptureFixture[str]) -> None:
    session, sm, arn = world
    assert origin_verify.main(["rotate", "--secret-id", arn], session=session) == 0
    out = capsys.readouterr().out
    doc = _doc(sm, arn)
    new = doc["current"]
    assert doc["previous"] == FIRST and len(new) == 64 and new.isalnum() and new != FIRST
    version = out.split("new VersionId ")[1].split(";")[0]
    assert _doc(sm, arn, VersionId=version) == doc  # the id the stack pins is exactly this document
    assert f"OriginVerifyVersionId={version}" in out
    assert FIRST not in out and new not in out

    # a second rotation before the first is finished would drop the value CloudFront still sends
    assert origin_verify.main(["rotate", "--secret-id", arn], session=session) == 1
    assert "rotation is under way" in capsys.readouterr().err

    # CloudFront still sends the old value: finishing would refuse it
    stale = _distribution(session, FIRST)
    assert origin_verify.main(["finish", "--secret-id", arn, "--distribution-id", stale], session=session) == 1
    err = capsys.readouterr().err
    assert "still sends another value" in err and FIRST not in err and new not in err
    assert _doc(sm, arn)["previous"] == FIRST

    # the stack was updated: CloudFront sends the new value (moto's distributions are Deployed at once)
    changed = _distribution(session, new)
    assert origin_verify.main(["finish", "--secret-id", arn, "--distribution-id", changed], session=session) == 0
    assert _doc(sm, arn) == {"current": new}
    assert new not in capsys.readouterr().out
    assert origin_verify.main(["finish", "--secret-id", arn, "--distribution-id", changed], session=session) == 1


def test_a_distribution_not_yet_deployed_cannot_finish(world: tuple[Any, Any, str]) -> None:
    session, sm, arn = world
    origin_verify.rotate(sm, arn)
    new = _doc(sm, arn)["current"]

    class InProgress:
        def get_distribution(self, Id: str) -> dict[str, Any]:
            origin = {"CustomHeaders": {"Items": [{"HeaderName": "X-Origin-Verify", "HeaderValue": new}]}}
            return {"Distribution": {"Status": "InProgress", "DistributionConfig": {"Origins": {"Items": [origin]}}}}

    with pytest.raises(origin_verify.RotationError, match="InProgress"):
        origin_verify.finish(sm, InProgress(), arn, "E123")
    assert _doc(sm, arn)["previous"] == FIRST


def test_not_the_origin_verify_secret(world: tuple[Any, Any, str]) -> None:
    _, sm, _ = world
    other = sm.create_secret(Name="qpay-prod-keys", SecretString=json.dumps({"server_key": "x" * 40}))["ARN"]
    with pytest.raises(origin_verify.RotationError, match="no 'current'"):
        origin_verify.rotate(sm, other)
