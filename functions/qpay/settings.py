"""All configuration, read from the environment once per cold start and validated before anything runs.

Endpoints are configuration: the same code talks to AWS and Checkout.com in production and to moto,
DynamoDB Local and the Checkout.com simulator locally (AWS_ENDPOINT_URL_* and CHECKOUT_BASE_URL).
Secrets are never here: only the Secrets Manager id they are read from.

A frozen dataclass parsed by hand rather than a pydantic model: pydantic costs ~60 ms at cold start on
every function for two dozen scalars (``make bench``); pydantic stays where it earns it (request bodies).
A bad value fails the cold start with one log line naming every wrong variable (``SettingsInvalid``).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from typing import Any
from urllib.parse import urlsplit

PROCESSING_CHANNEL_RE = re.compile(r"^pc_[a-z2-7]{26}\Z")
STAGES = ("dev", "prod")
PUBLIC_BASE_URL_MAX = 150
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})  # noqa: S104 - a list to refuse, not a bind


class SettingsInvalid(ValueError):
    """The environment cannot run this function; every problem, one per variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration: " + "; ".join(problems))
        self.problems = problems


def _bounds(ge: float | None = None, le: float | None = None, gt: float | None = None) -> dict[str, Any]:
    return {"ge": ge, "le": le, "gt": gt}


@dataclass(frozen=True)
class Settings:
    table_name: str
    secret_id: str
    storefront_success_url: str
    storefront_failure_url: str
    stage: str = "dev"
    secret_max_age_s: int = field(default=300, metadata=_bounds(ge=0))
    # The secret holding the x-origin-verify values CloudFront sends (set only behind the edge: the
    # public routes then refuse requests without it; empty = no check, as without the edge)
    origin_verify_secret_id: str | None = None
    # a header matching no cached value rereads that secret (a rotation), at most once per this many s
    origin_verify_min_refresh_s: int = field(default=60, metadata=_bounds(ge=0))

    checkout_base_url: str = "https://api.sandbox.checkout.com"
    checkout_connect_timeout_s: float = field(default=1.5, metadata=_bounds(gt=0, le=5))
    checkout_timeout_s: float = field(default=4.0, metadata=_bounds(gt=0, le=10))
    checkout_max_attempts: int = field(default=3, metadata=_bounds(ge=1, le=5))
    checkout_deadline_s: float = field(default=12.0, metadata=_bounds(gt=0, le=25))
    processing_channel_id: str | None = None
    checkout_single_channel_key: bool = False

    public_base_url: str | None = None  # base URL of this API for return URLs (custom domain)

    expiry_window_s: int = field(default=20 * 60, metadata=_bounds(ge=1))  # session's 15 min + grace
    expiry_rearm_base_s: int = field(default=5 * 60, metadata=_bounds(ge=1))
    expiry_rearm_cap_s: int = field(default=60 * 60, metadata=_bounds(ge=1))
    expiry_max_age_s: int = field(default=48 * 3600, metadata=_bounds(ge=1))  # Checkout retries for ~30 h
    create_lease_s: int = field(default=30, metadata=_bounds(ge=1))
    order_token_leeway_s: int = field(default=30, metadata=_bounds(ge=0))
    event_retention_days: int = field(default=90, metadata=_bounds(ge=1))
    customer_data_retention_days: int = field(default=30, metadata=_bounds(ge=1))
    return_cache_s: int = field(default=5, metadata=_bounds(ge=0))  # one Checkout GET per payment per N s

    refund_state_machine_arn: str | None = None
    refund_sweep_after_s: int = field(default=15 * 60, metadata=_bounds(ge=1))  # an open refund nobody owns
    # Checkout does not publish whether a pending refund is listed in GET /payments/{id}/actions. Only an
    # operator who has seen it listed (in the sandbox, while pending) turns this on: a refund whose POST may
    # have failed is then asked for again when /actions shows no refund with its reference (docs/money-over-time.md)
    checkout_lists_pending_refunds: bool = False

    order_events_bus_name: str | None = None
    order_events_source: str = "qpay.payments"
    reconcile_window_days: int = field(default=1, metadata=_bounds(ge=1, le=35))
    reconcile_max_payments: int = field(default=50_000, metadata=_bounds(ge=1))
    reconcile_concurrency: int = field(default=8, metadata=_bounds(ge=1, le=32))  # payments checked at once
    reconcile_open_refund_grace_s: int = field(default=6 * 3600, metadata=_bounds(ge=0))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        lowered = {k.lower(): v for k, v in env.items()}
        values: dict[str, Any] = {}
        problems: list[str] = []
        for f in fields(cls):
            raw = lowered.get(f.name)
            if raw is None or (raw == "" and f.type != "str"):
                if f.default is MISSING:
                    problems.append(f"{f.name.upper()}: required")
                continue
            try:
                values[f.name] = _parse(f.type, raw, f.metadata)
            except ValueError as exc:
                problems.append(f"{f.name.upper()}: {exc}")
        if problems:
            raise SettingsInvalid(problems)
        settings = cls(**values)
        problems = settings.problems()
        if problems:
            raise SettingsInvalid(problems)
        return settings

    def problems(self) -> list[str]:
        out: list[str] = []
        if len(self.table_name) < 3:
            out.append("TABLE_NAME: at least 3 characters")
        if not self.secret_id:
            out.append("SECRET_ID: required")
        if self.stage not in STAGES:
            out.append(f"STAGE: one of {', '.join(STAGES)}")
        prod = self.stage == "prod"
        for name in ("checkout_base_url", "storefront_success_url", "storefront_failure_url", "public_base_url"):
            value = getattr(self, name)
            if value is None:
                continue
            issue = _url_problem(value, https_only=prod)
            if issue:
                out.append(f"{name.upper()}: {issue}")
        if self.public_base_url and len(self.public_base_url) > PUBLIC_BASE_URL_MAX:
            # Checkout.com refuses success_url/failure_url over 255 characters (fidelity F-16); ours add
            # "/payments/return/failure?payment_id=" and a 30-character id to the base URL
            out.append(f"PUBLIC_BASE_URL: at most {PUBLIC_BASE_URL_MAX} characters (Checkout's return URLs: 255)")
        if self.processing_channel_id:
            if not PROCESSING_CHANNEL_RE.match(self.processing_channel_id):
                out.append("PROCESSING_CHANNEL_ID: must look like pc_ followed by 26 base32 characters")
        elif not self.checkout_single_channel_key:
            out.append(
                "PROCESSING_CHANNEL_ID: required (a key serving several processing channels must name one), "
                "unless CHECKOUT_SINGLE_CHANNEL_KEY=true"
            )
        if self.expiry_rearm_cap_s < self.expiry_rearm_base_s:
            out.append("EXPIRY_REARM_CAP_S: must be at least EXPIRY_REARM_BASE_S")
        return out

    def __post_init__(self) -> None:
        for name in ("checkout_base_url", "public_base_url"):
            value = getattr(self, name)
            if value:
                object.__setattr__(self, name, value.rstrip("/"))


def _parse(kind: Any, raw: str, bounds: Mapping[str, Any]) -> Any:
    kind = str(kind)
    if kind == "str":
        return raw
    if kind == "str | None":
        return raw or None
    if kind == "bool":
        if raw.strip().lower() in ("true", "1", "yes"):
            return True
        if raw.strip().lower() in ("false", "0", "no", ""):
            return False
        raise ValueError("must be true or false")
    if kind in ("int", "float"):
        try:
            number: float = int(raw) if kind == "int" else float(raw)
        except ValueError:
            raise ValueError(f"must be a{'n integer' if kind == 'int' else ' number'}") from None
        ge, le, gt = bounds.get("ge"), bounds.get("le"), bounds.get("gt")
        if ge is not None and number < ge:
            raise ValueError(f"must be at least {ge}")
        if gt is not None and number <= gt:
            raise ValueError(f"must be more than {gt}")
        if le is not None and number > le:
            raise ValueError(f"must be at most {le}")
        return number
    raise ValueError(f"unsupported setting type {kind}")  # pragma: no cover - a programming error


def _url_problem(value: str, *, https_only: bool) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be an absolute http(s) URL"
    if https_only and parts.scheme != "https":
        return "must be https in prod"
    if https_only and _internal_host(parts.hostname):
        return "must be a public host name in prod (not this machine, a numeric or a private address)"
    return None


def _internal_host(hostname: str) -> bool:
    """Loopback, link-local (the metadata service), private or any numeric address, or a local name with
    or without its trailing dot: ``localhost.``, ``127.0.0.2``, ``[::ffff:127.0.0.1]``, ``2130706433`` (F9)."""
    host = hostname.rstrip(".").lower()
    if host in LOCAL_HOSTS or host.endswith((".localhost", ".local", ".internal")):
        return True
    if host.replace(".", "").isdigit() or re.fullmatch(r"0x[0-9a-f]+", host):
        return True  # every numeric spelling of an address (2130706433, 0x7f000001, 127.1)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True  # a literal IP: a public one is still not a name a certificate and an operator can vouch for


@cache
def get_settings() -> Settings:
    """Validated once per cold start; an invalid environment fails the start with one clear line."""
    try:
        return Settings.from_env(os.environ)
    except SettingsInvalid as exc:
        from qpay.observability import logger, metric  # noqa: PLC0415

        logger.error("configuration refused at cold start", extra={"problems": exc.problems})
        metric("SettingsInvalid")
        raise
