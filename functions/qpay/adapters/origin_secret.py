"""The origin-verify values CloudFront sends (``x-origin-verify``), from their own Secrets Manager secret.

Their own secret, not the keys secret: the value CloudFront sends is readable by anyone who may read the
distribution's configuration (``cloudfront:GetDistributionConfig``), so it must open nothing else.

The document, written by the stack (``current`` generated) and by ``infra/tools/origin_verify.py``::

    {"current": "<what CloudFront sends>", "previous": "<still accepted while CloudFront changes over>"}

Read once per ``max_age_s`` per container, like the keys secret; a header that matches neither cached
value may mean a rotation this container has not seen, so it rereads the secret, at most once per
``min_refresh_s`` (a flood of wrong headers costs one ``GetSecretValue`` a minute per container, not one
per request). An unusable document fails closed (:class:`SecretsInvalid`: 503 and the SecretsInvalid
alarm): every request is refused rather than any request let through.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from qpay.adapters.secrets import FAILED_READ_CACHE_S, MIN_OWN_KEY, SecretsInvalid
from qpay.observability import logger, metric


def parse_values(doc: Any) -> tuple[str, ...]:
    """The accepted values (current first), or :class:`SecretsInvalid` naming what is wrong (never a value)."""
    if not isinstance(doc, dict):
        problems = ["origin_verify: the secret must be a JSON object"]
    else:
        values = [doc.get("current"), *([doc["previous"]] if doc.get("previous") is not None else [])]
        problems = [
            f"origin_verify.{name}: a string of at least {MIN_OWN_KEY} characters is required"
            for name, value in zip(("current", "previous"), values, strict=False)
            if not isinstance(value, str) or len(value) < MIN_OWN_KEY
        ]
        if not problems:
            return tuple(str(v) for v in values)
    logger.error("origin-verify secret refused", extra={"problems": problems})
    metric("SecretsInvalid")
    raise SecretsInvalid(problems)


class OriginSecret:
    """The accepted values, cached per container (see the module doc for when it rereads)."""

    def __init__(
        self,
        client: Callable[[], Any],
        secret_id: str,
        max_age_s: int,
        *,
        min_refresh_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._secret_id = secret_id
        self._max_age_s = max_age_s
        self._min_refresh_s = min_refresh_s
        self._clock = clock
        self._values: tuple[str, ...] = ()
        self._error: SecretsInvalid | None = None
        self._read_at: float | None = None
        self.reads = 0  # GetSecretValue calls (round-trip accounting)

    def values(self, *, refresh: bool = False) -> tuple[str, ...]:
        """The accepted values; ``refresh`` asks for a reread (granted at most once per ``min_refresh_s``)."""
        now = self._clock()
        if self._read_at is not None:
            age = now - self._read_at
            max_age = self._max_age_s if self._error is None else min(self._max_age_s, FAILED_READ_CACHE_S)
            if (age < max_age and not refresh) or (refresh and age < self._min_refresh_s):
                if self._error is not None:
                    raise self._error
                return self._values
        self.reads += 1
        answer = self._client().get_secret_value(SecretId=self._secret_id)
        self._read_at = now  # a broken secret is not reread on every request either
        try:
            doc = json.loads(answer.get("SecretString") or "")
        except ValueError:
            doc = None
        try:
            self._values, self._error = parse_values(doc), None
        except SecretsInvalid as err:
            self._values, self._error = (), err
            raise
        return self._values
