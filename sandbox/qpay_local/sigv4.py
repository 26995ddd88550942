"""Verify AWS Signature Version 4 on a received request, as API Gateway does for ``AWS_IAM`` routes.

The signature is recomputed with botocore's own signer over the received method, raw path, query,
the headers listed in ``SignedHeaders`` and the body, then compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+)\s*,\s*SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<sig>[0-9a-f]{64})\s*$"
)
MAX_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Identity:
    access_key: str
    account_id: str
    user_arn: str
    user_id: str


class SignatureError(Exception):
    """The request is not correctly signed (the reason is for logs, never for the caller)."""


def verify(
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    service: str = "execute-api",
    now: datetime | None = None,
) -> None:
    """Raise :class:`SignatureError` unless the request is signed with ``credentials``.

    ``url`` is scheme + host + the raw (still percent-encoded) path + ``?query``; ``headers`` are the
    received headers (any case).
    """
    lower = {k.lower(): v for k, v in headers.items()}
    m = _AUTH.match(lower.get("authorization", ""))
    if not m:
        raise SignatureError("missing or malformed Authorization header")
    access_key, date, cred_region, cred_service, terminal = (m["cred"].split("/") + [""] * 5)[:5]
    signed = m["signed"].split(";")
    amz_date = lower.get("x-amz-date", "")
    if access_key != credentials.access_key:
        raise SignatureError("unknown access key")
    if (cred_region, cred_service, terminal) != (region, service, "aws4_request"):
        raise SignatureError("wrong credential scope")
    if "host" not in signed:
        raise SignatureError("host is not signed")
    try:
        when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError("missing or malformed X-Amz-Date") from None
    if not amz_date.startswith(date):
        raise SignatureError("credential date does not match X-Amz-Date")
    if abs((now or datetime.now(UTC)) - when) > MAX_SKEW:
        raise SignatureError("signature expired or not yet valid")
    digest = hashlib.sha256(body).hexdigest()
    declared = lower.get("x-amz-content-sha256")
    if declared is not None and declared != digest:
        raise SignatureError("body does not match X-Amz-Content-SHA256")
    missing = [h for h in signed if h not in lower]
    if missing:
        raise SignatureError(f"signed headers missing: {missing}")

    request = AWSRequest(method=method.upper(), url=url, data=body, headers={h: lower[h] for h in signed})
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(credentials, service, region)
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, m["sig"]):
        raise SignatureError("signature does not match")


def sign_headers(
    *, method: str, url: str, body: bytes, credentials: Credentials, region: str, headers: dict[str, str] | None = None
) -> dict[str, str]:
    """Client side (tests, the merchant proxy, replay): the headers of a SigV4-signed request."""
    request = AWSRequest(method=method.upper(), url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers.items())
