"""Domain errors. Each carries the HTTP status the API maps it to, in one place (api/http.py)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class MalformedBody(DomainError):
    status = 400
    code = "malformed_body"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class NotYet(DomainError):
    """Right, but early: the sender should try again later (Checkout.com retries any non-2xx)."""

    status = 409
    code = "not_yet"


class NotRefundable(DomainError):
    status = 409
    code = "not_refundable"


class AmountExceedsBalance(DomainError):
    status = 422
    code = "amount_exceeds_balance"


class UpstreamUnavailable(DomainError):
    """Checkout.com did not answer usefully after bounded retries."""

    status = 503
    code = "checkout_unavailable"


class UpstreamRejected(DomainError):
    """Checkout.com refused the request (a 4xx we cannot fix by retrying)."""

    status = 502
    code = "checkout_rejected"


class ServiceMisconfigured(DomainError):
    """The deployment's configuration or keys cannot serve this request (fails closed)."""

    status = 503
    code = "service_misconfigured"
