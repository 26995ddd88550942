"""Verify AWS Signature Version 4 on a received request, as API Gateway does for ``AWS_IAM`` routes.

The signature is recomputed with botocore's own signer over the received method, raw path, query,
the headers listed in ``SignedHeaders`` and the body, then compared in constant time.

A refusal carries what API Gateway itself answers (``SignatureError.public``, the ``message`` of the
403 body, and ``error_type``, its ``x-amzn-ErrorType``). The wording follows AWS's messages as AWS
documents them in "How do I troubleshoot signature mismatch errors when making SigV4 signed requests
with IAM authentication to API Gateway?" (AWS re:Post Knowledge Center): "Missing Authentication
Token" (REST APIs; an HTTP API answers ``Forbidden``), "The security token included in the request
is invalid.", "The request signature we calculated does not match the signature you provided. …";
API Gateway adds the canonical request and string-to-sign it expected to that last one.
"""

from __future__ import annotations

import base64
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


MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)


class SignatureError(Exception):
    """The request is not correctly signed. ``str()`` is the reason for the local log; ``public`` and
    ``error_type`` are what API Gateway answers the caller."""

    def __init__(self, reason: str, public: str = "Forbidden", error_type: str = "ForbiddenException") -> None:
        super().__init__(reason)
        self.public = public
        self.error_type = error_type


def _incomplete(reason: str, public: str) -> SignatureError:
    return SignatureError(reason, public, "IncompleteSignatureException")


def _invalid(reason: str, public: str = MISMATCH) -> SignatureError:
    return SignatureError(reason, public, "InvalidSignatureException")


def _stamp(when: datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%SZ")


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
    header = lower.get("authorization", "")
    if not header:
        raise SignatureError("no Authorization header (the request is not signed)")
    m = _AUTH.match(header)
    if not m:
        if not header.startswith("AWS4-HMAC-SHA256"):
            hashed = base64.b64encode(hashlib.sha256(header.encode()).digest()).decode()
            raise _incomplete(
                "Authorization is not AWS4-HMAC-SHA256 (a Bearer token on an IAM route?)",
                "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 "
                f"and encoded with Base64): '{hashed}'.",
            )
        needs = [
            f"Authorization header requires '{p}' parameter." for p in ("Credential", "Signature", "SignedHeaders")
        ]
        raise _incomplete(
            "malformed AWS4-HMAC-SHA256 Authorization header", " ".join(needs) + f" Authorization={header}"
        )
    access_key, date, cred_region, cred_service, terminal = (m["cred"].split("/") + [""] * 5)[:5]
    signed = m["signed"].split(";")
    amz_date = lower.get("x-amz-date", "")
    if access_key != credentials.access_key:
        raise SignatureError(
            "unknown access key",
            "The security token included in the request is invalid.",
            "UnrecognizedClientException",
        )
    if cred_region != region:
        raise _invalid(
            f"credential scoped to region {cred_region!r}, not {region!r}",
            "Credential should be scoped to a valid region. ",
        )
    if (cred_service, terminal) != (service, "aws4_request"):
        raise _invalid(
            f"credential scoped to service {cred_service!r}",
            f"Credential should be scoped to correct service: '{service}'. ",
        )
    if "host" not in signed:
        raise _invalid(
            "host is not signed", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )
    try:
        when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise _incomplete(
            "missing or malformed X-Amz-Date",
            f"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={header}",
        ) from None
    if not amz_date.startswith(date):
        raise _invalid("credential date does not match X-Amz-Date")
    current = now or datetime.now(UTC)
    if current - when > MAX_SKEW:
        raise _invalid(
            "signature expired",
            f"Signature expired: {amz_date} is now earlier than {_stamp(current - MAX_SKEW)} ({_stamp(current)} - 5 min.)",
        )
    if when - current > MAX_SKEW:
        raise _invalid(
            "signature not yet current",
            f"Signature not yet current: {amz_date} is still later than {_stamp(current + MAX_SKEW)} "
            f"({_stamp(current)} + 5 min.)",
        )
    digest = hashlib.sha256(body).hexdigest()
    declared = lower.get("x-amz-content-sha256")
    if declared is not None and declared != digest:
        raise _invalid("body does not match X-Amz-Content-SHA256")
    missing = [h for h in signed if h not in lower]
    if missing:
        raise _invalid(f"signed headers missing: {missing}")

    request = AWSRequest(method=method.upper(), url=url, data=body, headers={h: lower[h] for h in signed})
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(credentials, service, region)
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    expected = auth.signature(string_to_sign, request)
    if not hmac.compare_digest(expected, m["sig"]):
        raise _invalid(
            "signature does not match",
            f"{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
            f"The String-to-Sign should have been\n'{string_to_sign}'\n",
        )


def sign_headers(
    *, method: str, url: str, body: bytes, credentials: Credentials, region: str, headers: dict[str, str] | None = None
) -> dict[str, str]:
    """Client side (tests, the merchant proxy, replay): the headers of a SigV4-signed request."""
    request = AWSRequest(method=method.upper(), url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers.items())
