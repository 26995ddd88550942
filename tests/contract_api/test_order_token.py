"""The order token is a standard HS256 JWT: the README's test vector is what PyJWT mints from its
key, kid and claims, the product verifies it, and a token minted with nothing but Node's ``crypto``
(no npm package) is the same bytes and is accepted too."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jwt
import pytest

from qpay.api.auth import AUDIENCE, mint_order_token, verify_order_token
from qpay.domain.errors import Forbidden

ROOT = Path(__file__).resolve().parents[2]

# The README's test vector ("Mint the order token"): synthetic key, never a real one.
VECTOR_KEY = "qpay-test-vector-key-not-for-production-use"
VECTOR_KID = "vector-1"
VECTOR_CLAIMS = {
    "reference": "ORD-1001",
    "amount": 12500,
    "currency": "QAR",
    "exp": 1767225600,
    "aud": "qpay-payments",
    "jti": "0f8c2d7e-6b1a-4c3e-9d5f-2a7b8c9d0e1f",
}
VECTOR_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsImtpZCI6InZlY3Rvci0xIiwidHlwIjoiSldUIn0"
    ".eyJyZWZlcmVuY2UiOiJPUkQtMTAwMSIsImFtb3VudCI6MTI1MDAsImN1cnJlbmN5IjoiUUFSIiwiZXhwIjoxNzY3MjI1NjAwLCJhdWQiOiJxcGF5LXBheW1lbnRzIiwianRpIjoiMGY4YzJkN2UtNmIxYS00YzNlLTlkNWYtMmE3YjhjOWQwZTFmIn0"
    ".X7-5fRWggh2nCdZpu0dxtQyQP10h_UuBhQRnKgXzd5M"
)
HEADER_JSON = '{"alg":"HS256","kid":"vector-1","typ":"JWT"}'


def keys(kid: str) -> str | None:
    return {VECTOR_KID: VECTOR_KEY}.get(kid)


def test_pyjwt_mints_the_vector() -> None:
    assert jwt.encode(VECTOR_CLAIMS, VECTOR_KEY, algorithm="HS256", headers={"kid": VECTOR_KID}) == VECTOR_TOKEN
    assert (
        mint_order_token(
            VECTOR_KEY,
            kid=VECTOR_KID,
            reference="ORD-1001",
            amount=12500,
            currency="QAR",
            expires_at=1767225600,
            jti=VECTOR_CLAIMS["jti"],  # type: ignore[arg-type]
        )
        == VECTOR_TOKEN
    )
    assert jwt.get_unverified_header(VECTOR_TOKEN) == json.loads(HEADER_JSON)


def test_the_product_verifies_the_vector_until_it_expires() -> None:
    exp = int(VECTOR_CLAIMS["exp"])  # type: ignore[call-overload]
    assert verify_order_token(VECTOR_TOKEN, keys, now=exp - 60, leeway_s=0) == VECTOR_CLAIMS
    with pytest.raises(Forbidden, match="expired"):
        verify_order_token(VECTOR_TOKEN, keys, now=exp + 1, leeway_s=0)
    with pytest.raises(Forbidden, match="signature"):
        verify_order_token(VECTOR_TOKEN, lambda kid: VECTOR_KEY + "x", now=exp - 60, leeway_s=0)


def test_the_readme_shows_the_vector() -> None:
    readme = (ROOT / "docs" / "integrate.md").read_text()  # the README's integrate page
    for text in (VECTOR_TOKEN, VECTOR_KEY, VECTOR_KID, json.dumps(VECTOR_CLAIMS, separators=(",", ":"))):
        assert text in readme, text
    for library in (
        "jsonwebtoken",
        "firebase/php-jwt",
        "PyJWT",
        "mintOrderToken",
        "mint_order_token",
        "OrderToken::mint",
    ):
        assert library in readme, library


NODE_MINT = r"""
const crypto = require("crypto");
const [key, kid, claimsJson] = process.argv.slice(1);
const b64u = (s) => Buffer.from(s).toString("base64url");
const header = b64u(JSON.stringify({ alg: "HS256", kid, typ: "JWT" }));
const payload = b64u(claimsJson);
const signature = crypto.createHmac("sha256", key).update(header + "." + payload).digest("base64url");
process.stdout.write(header + "." + payload + "." + signature);
"""


def node_mint(key: str, kid: str, claims: dict[str, object]) -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    done = subprocess.run(
        [node, "-e", NODE_MINT, key, kid, json.dumps(claims, separators=(",", ":"))],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout


def test_node_crypto_mints_the_same_bytes_and_a_fresh_token_is_accepted() -> None:
    assert node_mint(VECTOR_KEY, VECTOR_KID, VECTOR_CLAIMS) == VECTOR_TOKEN
    fresh = {
        "reference": "ORD-NODE-1",
        "amount": 4200,
        "currency": "QAR",
        "exp": 2_000_000_000,
        "aud": AUDIENCE,
        "jti": "node-" + "7" * 20,
    }
    token = node_mint(VECTOR_KEY, VECTOR_KID, fresh)
    assert verify_order_token(token, keys, now=1_999_999_000, leeway_s=0) == fresh
