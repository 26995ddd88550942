"""The merchant side of a refund: sign ``POST /payments/{id}/refunds`` with SigV4 (``execute-api``)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@runtime_checkable
class KeyPair(Protocol):
    """Anything with an access key id and a secret (e.g. the local stack's ``LocalCredentials``)."""

    @property
    def access_key_id(self) -> str: ...

    @property
    def secret_access_key(self) -> str: ...


def as_botocore(credentials: Credentials | KeyPair) -> Credentials:
    if isinstance(credentials, Credentials):
        return credentials
    token = getattr(credentials, "session_token", None)
    return Credentials(credentials.access_key_id, credentials.secret_access_key, token)


def signed_headers(
    *, method: str, url: str, body: bytes, headers: dict[str, str], credentials: Credentials, region: str
) -> dict[str, str]:
    """``headers`` plus ``X-Amz-Date`` and ``Authorization`` (host and every given header are signed).

    Send exactly these headers to exactly this URL: the HTTP client must not rewrite the path or query.
    """
    request = AWSRequest(method=method.upper(), url=url, data=body, headers=dict(headers))
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers.items())
