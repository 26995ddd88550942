"""Rotate the origin-verify secret (the ``x-origin-verify`` value CloudFront sends) without dropping traffic.

The public functions accept ``current`` and ``previous``; CloudFront sends the ``current`` of the secret
version the stack's ``OriginVerifyVersionId`` names. A rotation is three steps (docs/deploy.md):

1. ``.venv/bin/python infra/tools/origin_verify.py rotate --secret-id <OriginVerifySecretArn output>``: writes
   ``{"current": <new>, "previous": <old current>}`` and prints the new VersionId. The functions now
   accept both: a container that still caches the old document rereads it on the first new value it sees.
2. ``make deploy ENV=<env> ARGS="--parameter OriginVerifyVersionId=<that id>"`` (or put it in samconfig's
   ``parameter_overrides``): CloudFormation resolves the new reference and CloudFront sends the new value
   once the distribution is deployed (minutes). Old and new are both accepted meanwhile.
3. ``.venv/bin/python infra/tools/origin_verify.py finish --secret-id <arn> --distribution-id <EdgeDistributionId>``:
   refuses unless the distribution is ``Deployed`` and sends ``current``; then drops ``previous``.

The values never appear on stdout or in an error (only version ids and lengths).
"""

from __future__ import annotations

import argparse
import hmac
import json
import secrets
import string
import sys
from typing import Any

HEADER = "x-origin-verify"
LENGTH = 64  # as the stack generates it (template.yaml, OriginVerifySecret)
ALPHABET = string.ascii_letters + string.digits


class RotationError(Exception):
    """A reason not to change the secret; the message names it (never a value)."""


def new_value() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def _document(sm: Any, secret_id: str) -> dict[str, Any]:
    doc = json.loads(sm.get_secret_value(SecretId=secret_id)["SecretString"])
    if not isinstance(doc, dict) or not isinstance(doc.get("current"), str):
        raise RotationError(f"{secret_id} holds no 'current' value: is it the stack's OriginVerifySecret?")
    return doc


def rotate(sm: Any, secret_id: str) -> str:
    """Step 1: a new current, the old one kept as previous. Returns the new VersionId."""
    doc = _document(sm, secret_id)
    if doc.get("previous"):
        raise RotationError(
            "a rotation is under way (the secret holds a previous value): finish it first, or CloudFront's "
            "value could stop being accepted"
        )
    answer = sm.put_secret_value(
        SecretId=secret_id, SecretString=json.dumps({"current": new_value(), "previous": doc["current"]})
    )
    return str(answer["VersionId"])


def sent_by(cloudfront: Any, distribution_id: str) -> tuple[str, list[str]]:
    """The distribution's status and the x-origin-verify values its origins send."""
    dist = cloudfront.get_distribution(Id=distribution_id)["Distribution"]
    values = [
        str(h["HeaderValue"])
        for origin in dist["DistributionConfig"]["Origins"]["Items"]
        for h in (origin.get("CustomHeaders") or {}).get("Items", [])
        if h["HeaderName"].lower() == HEADER
    ]
    return str(dist["Status"]), values


def finish(sm: Any, cloudfront: Any, secret_id: str, distribution_id: str) -> str:
    """Step 3: drop previous once CloudFront sends current everywhere. Returns the new VersionId."""
    doc = _document(sm, secret_id)
    if not doc.get("previous"):
        raise RotationError("no rotation under way (the secret holds no previous value)")
    status, values = sent_by(cloudfront, distribution_id)
    if not values:
        raise RotationError(f"distribution {distribution_id} sends no {HEADER} header")
    if not all(hmac.compare_digest(v.encode(), str(doc["current"]).encode()) for v in values):
        raise RotationError(
            f"distribution {distribution_id} still sends another value than current: deploy the stack with "
            "OriginVerifyVersionId=<the id rotate printed> first"
        )
    if status != "Deployed":
        raise RotationError(f"distribution {distribution_id} is {status}: wait until it is Deployed")
    answer = sm.put_secret_value(SecretId=secret_id, SecretString=json.dumps({"current": doc["current"]}))
    return str(answer["VersionId"])


def main(argv: list[str] | None = None, *, session: Any = None) -> int:
    parser = argparse.ArgumentParser(description="Rotate the origin-verify secret (docs/deploy.md)")
    sub = parser.add_subparsers(dest="step", required=True)
    one = sub.add_parser("rotate", help="new current value; the old one stays accepted as previous")
    one.add_argument("--secret-id", required=True, help="the stack's OriginVerifySecretArn output")
    three = sub.add_parser("finish", help="drop previous once CloudFront sends current")
    three.add_argument("--secret-id", required=True)
    three.add_argument("--distribution-id", required=True, help="the stack's EdgeDistributionId output")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    if session is None:
        import boto3  # noqa: PLC0415 - only the CLI needs AWS

        session = boto3.session.Session(region_name=args.region)
    sm = session.client("secretsmanager")
    try:
        if args.step == "rotate":
            version = rotate(sm, args.secret_id)
            print(f"rotated: new VersionId {version}; both values are accepted now.")
            print(f'next: make deploy ENV=<env> ARGS="--parameter OriginVerifyVersionId={version}"')
            print("then: .venv/bin/python infra/tools/origin_verify.py finish --secret-id ... --distribution-id ...")
        else:
            cloudfront = session.client("cloudfront", region_name="us-east-1")
            version = finish(sm, cloudfront, args.secret_id, args.distribution_id)
            print(f"finished: VersionId {version}; only the value CloudFront sends is accepted.")
    except RotationError as err:
        print(f"origin_verify: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
