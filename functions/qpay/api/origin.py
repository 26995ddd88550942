"""Origin verify: behind the edge, a public route answers only requests that came through CloudFront.

CloudFront adds ``x-origin-verify: <secret>`` to every request it forwards (template.yaml,
``EdgeDistribution``); anyone who calls the API's origin domain directly, around the WAF, lacks it and
gets a bare 403 that says nothing about the header. The presented value is compared with each accepted
value (current, and previous while a rotation is under way) in constant time, every one of them, so
neither the answer nor its timing tells which value came close.

Off when no secret is configured (``ORIGIN_VERIFY_SECRET_ID`` empty: ``Edge=none``, dev stacks without
the edge, the local stack): configuration, not a code path for local runs. The refund route never checks
it: it is called with SigV4 directly on the origin domain, never through CloudFront (docs/deploy.md).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence

from qpay.api import http
from qpay.domain.errors import Forbidden
from qpay.observability import metric

HEADER = "x-origin-verify"

#: ``values(refresh=...)``: the accepted values, rereading the secret when asked (rate-limited by it).
ValueSource = Callable[..., tuple[str, ...]]


def matches(presented: str | None, accepted: Sequence[str]) -> bool:
    """Whether ``presented`` equals one of ``accepted``, compared in constant time with all of them."""
    if presented is None:
        return False
    given = presented.encode()
    found = False
    for value in accepted:
        found |= hmac.compare_digest(given, value.encode())
    return found


class OriginCheck:
    """Refuses (403) a request without the right ``x-origin-verify`` value; nothing when disabled."""

    def __init__(self, source: ValueSource | None) -> None:
        self._source = source

    @property
    def enabled(self) -> bool:
        return self._source is not None

    def verify(self, event: http.Event) -> None:
        """Return if the request may proceed; raise :class:`Forbidden` otherwise (before anything is read
        or stored). An unusable secret raises ``SecretsInvalid`` (503): closed, never open."""
        if self._source is None:
            return
        presented = http.header(event, HEADER)
        if presented is not None and (
            matches(presented, self._source()) or matches(presented, self._source(refresh=True))
        ):
            return
        metric("OriginVerifyRejected")
        raise Forbidden("forbidden")
