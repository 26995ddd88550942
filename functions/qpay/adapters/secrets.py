"""Keys from one Secrets Manager JSON secret, read with the already-loaded botocore session and cached.

Why not Powertools parameters: it imports boto3 and s3transfer and builds a second botocore session
(~85 ms at cold start, ``make bench``) to do one ``GetSecretValue``.

The secret fails closed. Each key is checked when it is read: the template's ``set-me`` placeholders,
empty lists and keys shorter than a sane minimum are recorded as problems, and whoever needs such a key
(create needs the merchant and server keys, the webhook its signing keys, every Checkout call the
Checkout key) refuses to run with it (:class:`SecretsInvalid`), so nothing can be created or forged with
a placeholder. Keys that are fine keep working for the functions that only need them.

The document (see the README's Deploy section)::

    {"checkout_secret_key": "sk_…", "webhook_signing_keys": ["…"], "merchant_api_keys": ["…"],
     "order_token_keys": {"<kid>": "…"}, "server_key": "…", "webhook_authorization": "…" (optional)}
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qpay.domain.errors import ServiceMisconfigured
from qpay.observability import logger, metric

PLACEHOLDERS = frozenset({"set-me", "setme", "change-me", "changeme", "placeholder", "todo", "xxx"})
MIN_OWN_KEY = 32  # keys this stack mints and checks itself (merchant, order token, server)
MIN_WEBHOOK_KEY = 16  # Checkout.com's Dashboard signature key
KID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}\Z")
CHECKOUT_KEY_RE = re.compile(r"^sk_[A-Za-z0-9_*#$=-]{16,}\Z")
FAILED_READ_CACHE_S = 30  # an operator's fix is picked up within this after a bad read


class SecretsInvalid(ServiceMisconfigured):
    """A key this call needs is missing, a placeholder or too short. The caller gets a 503 without
    details; the log line names the keys (never their values) and ``SecretsInvalid`` is counted."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the service is not configured yet; the operator has been alerted")
        self.problems = problems


@dataclass(frozen=True)
class Keys:
    checkout_secret_key: str = ""
    webhook_signing_keys: tuple[str, ...] = ()
    merchant_api_keys: tuple[str, ...] = ()
    order_token_keys: tuple[tuple[str, str], ...] = ()  # (kid, key)
    server_key: str = ""
    webhook_authorization: str | None = None
    problems: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # never print a key, even by accident
        return f"Keys(<redacted>, problems={sorted(self.problems)})"

    def require(self, *names: str) -> None:
        """Raise :class:`SecretsInvalid` if any of these keys is unusable."""
        bad = [f"{name}: {self.problems[name]}" for name in ("secret", *names) if name in self.problems]
        if bad:
            logger.error("secret refused: keys are missing, placeholders or too short", extra={"problems": bad})
            metric("SecretsInvalid")
            raise SecretsInvalid(bad)

    def order_token_key(self, kid: str) -> str | None:
        return dict(self.order_token_keys).get(kid)


def _note(problems: dict[str, str], name: str, issue: str) -> None:
    problems[name] = issue


def _placeholder(value: str) -> bool:
    return value.strip().lower() in PLACEHOLDERS


def _strings(doc: Mapping[str, Any], name: str, minimum: int, problems: dict[str, str]) -> tuple[str, ...]:
    value = doc.get(name)
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else None
    if items is None or not items:
        _note(problems, name, "a non-empty list of keys is required")
        return ()
    out = tuple(str(v) for v in items)
    if any(_placeholder(v) for v in out):
        _note(problems, name, "still holds the set-me placeholder")
    elif any(len(v) < minimum for v in out):
        _note(problems, name, f"every key needs at least {minimum} characters")
    return out


def parse_keys(doc: Mapping[str, Any]) -> Keys:
    problems: dict[str, str] = {}
    checkout = str(doc.get("checkout_secret_key") or "")
    if _placeholder(checkout) or not checkout:
        _note(problems, "checkout_secret_key", "set your Checkout.com secret key (sk_…)")
    elif not CHECKOUT_KEY_RE.match(checkout):
        _note(problems, "checkout_secret_key", "not a Checkout.com secret key (sk_…)")
    webhook = _strings(doc, "webhook_signing_keys", MIN_WEBHOOK_KEY, problems)
    merchant = _strings(doc, "merchant_api_keys", MIN_OWN_KEY, problems)
    tokens: list[tuple[str, str]] = []
    raw_tokens = doc.get("order_token_keys", {})
    if not isinstance(raw_tokens, dict):
        _note(problems, "order_token_keys", "an object {kid: key} is required")
    else:
        for kid, key in raw_tokens.items():
            text = str(key)
            if not KID_RE.match(str(kid)):
                _note(problems, "order_token_keys", "kids are 1-64 letters, digits, dot, dash or underscore")
            elif _placeholder(text):
                _note(problems, "order_token_keys", "still holds the set-me placeholder")
            elif len(text) < MIN_OWN_KEY:
                _note(problems, "order_token_keys", f"every key needs at least {MIN_OWN_KEY} characters")
            tokens.append((str(kid), text))
        if not tokens:
            _note(problems, "order_token_keys", "no order-token key: browser checkout is off")
    server = str(doc.get("server_key") or "")
    if _placeholder(server) or len(server) < MIN_OWN_KEY:
        _note(problems, "server_key", f"a random key of at least {MIN_OWN_KEY} characters is required")
    authorization = doc.get("webhook_authorization")
    if authorization is not None and (not isinstance(authorization, str) or _placeholder(authorization)):
        _note(problems, "webhook_authorization", "set it to the value configured in Checkout's Dashboard, or remove it")
    return Keys(
        checkout_secret_key=checkout,
        webhook_signing_keys=webhook,
        merchant_api_keys=merchant,
        order_token_keys=tuple(tokens),
        server_key=server,
        webhook_authorization=authorization if isinstance(authorization, str) and authorization else None,
        problems=problems,
    )


class SecretReader:
    """``GetSecretValue`` once per ``max_age_s`` per container (a key rotation is picked up by then)."""

    def __init__(
        self,
        client: Callable[[], Any],
        secret_id: str,
        max_age_s: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._secret_id = secret_id
        self._max_age_s = max_age_s
        self._clock = clock
        self._keys: Keys | None = None
        self._until = 0.0
        self.reads = 0  # GetSecretValue calls (round-trip accounting)

    def keys(self) -> Keys:
        now = self._clock()
        if self._keys is not None and now < self._until:
            return self._keys
        self.reads += 1
        answer = self._client().get_secret_value(SecretId=self._secret_id)
        try:
            doc = json.loads(answer.get("SecretString") or "")
        except ValueError:
            doc = None
        keys = parse_keys(doc) if isinstance(doc, dict) else Keys(problems={"secret": "must be a JSON object"})
        self._keys = keys
        self._until = now + (self._max_age_s if not keys.problems else min(self._max_age_s, FAILED_READ_CACHE_S))
        return keys
