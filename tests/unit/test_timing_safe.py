"""Every secret is compared in constant time (issue 23, 6): no ``==``/``!=``/``in`` between a value whose
name says it is a signature, secret, token, key, digest or MAC and anything but a literal. A comparison
that is not of a secret (a token's *type*, a key's *name*) says so on its line: ``# not a secret: why``.

The check reads the product's source with ``ast``; it fails on a new ``if presented == expected_signature``
and names the file and line, so the fix (``hmac.compare_digest``) is made where the bug is."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "functions" / "qpay"
SECRET_NAME = re.compile(
    r"(signature|secret|token|password|authorization|digest|hmac|mac\b|api_key|signing_key|_key$|^key$)", re.I
)
NOT_SECRET = "# not a secret:"
PASS_THROUGH = frozenset({"encode", "decode", "strip", "lower", "upper", "hexdigest", "digest", "get_secret_value"})


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in PASS_THROUGH:
            return _name(func.value)  # secret.encode() is still the secret
        return _name(func)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value
    return None


def _literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) or (
        isinstance(node, ast.Tuple | ast.List | ast.Set) and all(isinstance(e, ast.Constant) for e in node.elts)
    )


def findings(source: str, where: str) -> list[str]:
    lines = source.splitlines()
    out: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        if not any(isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops):
            continue
        operands = [node.left, *node.comparators]
        if any(_literal(o) for o in operands):
            continue  # against a literal (None, "", a fixed set of names): no secret is being matched
        named = [n for n in map(_name, operands) if n and SECRET_NAME.search(n)]
        if named and NOT_SECRET not in lines[node.lineno - 1]:
            out.append(f"{where}:{node.lineno}: {' vs '.join(named)} compared with {type(node.ops[0]).__name__}")
    return out


def test_the_product_compares_secrets_in_constant_time() -> None:
    problems: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        problems += findings(path.read_text(), str(path.relative_to(ROOT.parent)))
    assert problems == [], "use hmac.compare_digest:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "snippet",
    [
        "ok = presented == expected_signature",
        "if secret != given: pass",
        "if keys.webhook_authorization == header: pass",
        "if token in allowed_tokens: pass",
        "same = sign(body, key) == raw_mac",
        "match = doc['signature'] == computed",
        "if not client_secret.encode() == expected_secret().encode(): pass",
        "if presented.strip() != merchant_key: pass",
    ],
)
def test_the_check_catches_a_plain_comparison_of_a_secret(snippet: str) -> None:
    assert findings(snippet, "x.py"), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "ok = hmac.compare_digest(presented, expected_signature)",
        "if token is None: pass",
        "if secret == '': pass",
        "if header.get('alg') == ALGORITHM: pass",
        "if kind == 'order-token': pass",
        "if token_type == other_type:  # not a secret: a type name\n    pass",
    ],
)
def test_the_check_leaves_what_is_not_a_secret_alone(snippet: str) -> None:
    assert findings(snippet, "x.py") == [], snippet
