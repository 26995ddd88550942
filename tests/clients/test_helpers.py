"""The clients' helpers, each checked against an independent implementation or a published vector:
Standard Webhooks (the spec's test vector, and the `standardwebhooks` library), the order token (the
README's JWT test vector and the product's verifier), SigV4 (botocore's signer, the same inputs), and
the retry transports (bounded, only what is safe to repeat)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from qpay_client import RetryTransport, mint_order_token, sign_refund, verify_order_event
from qpay_client.events import WebhookVerificationError
from standardwebhooks.webhooks import Webhook

ROOT = Path(__file__).resolve().parents[2]
# Standard Webhooks' test vector (the spec repository's libraries all test it)
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID, SW_TS, SW_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'
SW_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
# the README's order-token test vector
JWT_KEY, JWT_KID = "qpay-test-vector-key-not-for-production-use", "vector-1"
JWT_CLAIMS = {"reference": "ORD-1001", "amount": 12500, "currency": "QAR", "exp": 1767225600, "aud": "qpay-payments",
              "jti": "0f8c2d7e-6b1a-4c3e-9d5f-2a7b8c9d0e1f"}  # fmt: skip
JWT_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsImtpZCI6InZlY3Rvci0xIiwidHlwIjoiSldUIn0.eyJyZWZlcmVuY2UiOiJPUkQtMTAwMSIsImFtb3VudCI6MTI1MDAsIm"
    "N1cnJlbmN5IjoiUUFSIiwiZXhwIjoxNzY3MjI1NjAwLCJhdWQiOiJxcGF5LXBheW1lbnRzIiwianRpIjoiMGY4YzJkN2UtNmIxYS00YzNlLTlkNWYt"
    "MmE3YjhjOWQwZTFmIn0.X7-5fRWggh2nCdZpu0dxtQyQP10h_UuBhQRnKgXzd5M"
)
php_only = pytest.mark.skipif(shutil.which("php") is None, reason="php-cli (make test installs it)")


def php(code: str, *args: str) -> str:
    done = subprocess.run(["php", "-r", "require 'clients/php/autoload.php';" + code, "--", *args],
                          capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


# -- Standard Webhooks --------------------------------------------------------------------------------------


def test_the_spec_vector_with_the_library_the_python_client_uses() -> None:
    when = datetime.fromtimestamp(SW_TS, tz=UTC)
    assert Webhook(SW_SECRET).sign(SW_ID, when, SW_BODY) == SW_SIGNATURE
    headers = {"Webhook-Id": SW_ID, "Webhook-Timestamp": str(SW_TS), "Webhook-Signature": SW_SIGNATURE}
    with pytest.raises(WebhookVerificationError):  # the vector is from 2021: too old, as it must be
        verify_order_event(SW_SECRET, SW_BODY, headers)


@php_only
def test_php_webhook_matches_the_spec_vector_and_refuses_what_it_must() -> None:
    assert php("echo QPay\\Webhook::sign($argv[1], $argv[2], (int) $argv[3], $argv[4]);",
               SW_SECRET, SW_ID, str(SW_TS), SW_BODY) == SW_SIGNATURE  # fmt: skip
    verify = (
        "$h = json_decode($argv[2], true);"
        "try { echo json_encode(QPay\\Webhook::verify($argv[1], $argv[3], $h, (int) $argv[4])); }"
        " catch (QPay\\WebhookVerificationError $e) { echo 'refused: ', $e->getMessage(); }"
    )
    good = {"webhook-id": SW_ID, "webhook-timestamp": str(SW_TS), "webhook-signature": "v0,xyz " + SW_SIGNATURE}
    assert json.loads(php(verify, SW_SECRET, json.dumps(good), SW_BODY, str(SW_TS + 10))) == {"test": 2432232314}
    assert php(verify, SW_SECRET, json.dumps(good), SW_BODY + " ", str(SW_TS)).startswith("refused: no matching")
    assert php(verify, SW_SECRET, json.dumps(good), SW_BODY, str(SW_TS + 301)).startswith("refused: webhook-timestamp")
    other = {**good, "webhook-id": "msg_other"}
    assert php(verify, SW_SECRET, json.dumps(other), SW_BODY, str(SW_TS)).startswith("refused")
    assert php(verify, SW_SECRET, json.dumps({}), SW_BODY, str(SW_TS)).startswith("refused: missing")


# -- the order token ----------------------------------------------------------------------------------------


def test_python_mints_the_readme_vector() -> None:
    claims = {k: v for k, v in JWT_CLAIMS.items() if k not in ("exp", "aud")}
    token = mint_order_token(reference=str(claims["reference"]), amount=12500, key=JWT_KEY, kid=JWT_KID,
                             jti=str(JWT_CLAIMS["jti"]), now=1767225600 - 900)  # fmt: skip
    import jwt

    assert (
        jwt.decode(token, JWT_KEY, algorithms=["HS256"], audience="qpay-payments", options={"verify_exp": False})
        == JWT_CLAIMS
    )
    with pytest.raises(ValueError, match="minor units"):
        mint_order_token(reference="R", amount=125.0, key=JWT_KEY, kid=JWT_KID)  # type: ignore[arg-type]


@php_only
def test_php_encodes_the_readme_vector_byte_for_byte() -> None:
    code = "echo QPay\\OrderToken::encode(['alg' => 'HS256', 'kid' => $argv[2], 'typ' => 'JWT'], json_decode($argv[3], true), $argv[1]);"
    assert php(code, JWT_KEY, JWT_KID, json.dumps(JWT_CLAIMS)) == JWT_TOKEN


# -- SigV4 ----------------------------------------------------------------------------------------------------


@php_only
@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEXAMPLETOKEN"])
def test_php_sigv4_equals_botocores_signature(token: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.auth

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: datetime(2026, 1, 1, tzinfo=UTC))
    creds = Credentials("AKIDEXAMPLE0000000000", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    url = "http://127.0.0.1:3500/payments/qpp_abc/refunds"
    body = '{"amount":2500}'
    request = AWSRequest("POST", url, data=body, headers={"content-type": "application/json", "idempotency-key": "k-1"})
    signer = SigV4Auth(creds, "execute-api", "me-central-1")
    signer.add_auth(request)
    code = (
        "$c = new QPay\\AwsCredentials($argv[1], $argv[2], $argv[3] === '' ? null : $argv[3]);"
        "echo json_encode(QPay\\SigV4::sign('POST', $argv[4], ['content-type' => 'application/json',"
        " 'idempotency-key' => 'k-1'], $argv[5], $c, 'me-central-1', 'execute-api', 1767225600));"
    )
    ours = json.loads(php(code, creds.access_key, creds.secret_key, token or "", url, body))
    assert ours["authorization"] == request.headers["Authorization"]
    assert ours["x-amz-date"] == request.headers["X-Amz-Date"]


def test_python_signs_a_refund_the_stacks_verifier_accepts() -> None:
    from qpay_local import sigv4

    creds = Credentials("AKIDEXAMPLE0000000000", "secret0000000000000000000000000000000000")
    signed = sign_refund(base_url="http://127.0.0.1:3000/", region="us-east-1", credentials=creds,
                         payment_id="qpp_x", idempotency_key="k-1", amount=2500)  # fmt: skip
    assert str(signed.url) == "http://127.0.0.1:3000/payments/qpp_x/refunds"
    assert json.loads(signed.content) == {"amount": 2500}
    assert signed.headers["idempotency-key"] == "k-1" and signed.headers["authorization"].startswith("AWS4-HMAC-SHA256")
    assert hasattr(sigv4, "sign_headers")  # the stack's verifier is exercised end to end in test_readme_snippets


# -- retries --------------------------------------------------------------------------------------------------


class Script(httpx.BaseTransport):
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.seen = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        status = self.statuses[min(self.seen, len(self.statuses) - 1)]
        self.seen += 1
        return httpx.Response(status, json={})


@pytest.mark.parametrize(
    ("method", "headers", "statuses", "want_status", "want_calls"),
    [
        ("POST", {"Idempotency-Key": "k"}, [503, 503, 201], 201, 3),  # safe to repeat: retried
        ("POST", {"Idempotency-Key": "k"}, [503], 503, 3),  # bounded: 3 attempts, then the answer
        ("POST", {}, [503, 201], 503, 1),  # no Idempotency-Key: never repeated (could create twice)
        ("GET", {}, [502, 200], 200, 2),
        ("GET", {}, [404, 200], 404, 1),  # not a transient status
    ],
)
def test_the_python_transport_retries_only_what_is_safe(method, headers, statuses, want_status, want_calls) -> None:
    inner = Script(statuses)
    delays: list[float] = []
    transport = RetryTransport(inner, max_attempts=3, base_delay_s=0.2, sleep=delays.append)
    with httpx.Client(transport=transport) as client:
        assert client.request(method, "http://api.test/payments", headers=headers).status_code == want_status
    assert inner.seen == want_calls
    assert len(delays) == want_calls - 1
    assert all(0 <= d <= 0.2 * 2**i for i, d in enumerate(delays))  # full jitter under a doubling ceiling
