"""Derive the request schemas the simulator validates with from Checkout's published OpenAPI.

A build-time tool, not part of the running simulator: ``python -m cko_sim.spec_derive`` reads a copy of
``checkout/checkout-api-reference`` at commit ``2fc946c`` (the project keeps one beside the repository,
``../shared/checkout-api-spec``; ``--spec DIR`` or ``$QPAY_SHARED_DIR/checkout-api-spec`` name another)
and writes ``sandbox/cko_sim/spec/*.json``, which the simulator loads at start (``cko_sim.spec_schemas``).
``--check`` only compares, and fails when a checked-in file differs from what the spec gives
(``tests/contracts/test_schemas_derived.py`` does the same wherever the spec copy is present).

The derivation is mechanical: for each request, the published root file with its ``allOf`` members and
``$ref``s resolved, cut down to the fields a QPay request uses (``PAYMENT_FIELDS``, ``REFUND_FIELDS``),
keeping for each only the constraint keywords (``KEYWORDS``). Descriptions and examples are never
carried over, so no published file is copied. Every object names its published files in ``$comment``.
Two choices are ours, each said where it is made:

- ``source`` is derived from ``abc_spec/.../PaymentRequestQPaySource.yaml`` (which extends the NAS
  ``PaymentRequestSource``): the 2021 NAS discriminator mapping lists card sources only;
- ``customer`` references ``CustomerRequest``, which the 2021 tree keeps in its bundled
  ``output/swagger.json`` (commit ``9ec49d4``), not in the stored copy: its three fields are typed here
  from that file (``CUSTOMER_REQUEST``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = "checkout/checkout-api-reference"
COMMIT = "2fc946cd22e9a6b8e3a33db3c5f4be4d3fe7d74c"
BUNDLED_COMMIT = "9ec49d47a84f5ce9f2421dcce46f202abaf8d3c0"
#: Constraint keywords carried over from a published node (nothing else is).
KEYWORDS = ("type", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "format", "required")
OUT_DIR = Path(__file__).resolve().parent / "spec"
REPO_ROOT = Path(__file__).resolve().parents[2]

PAYMENTS = "nas_spec/components/schemas/Payments/"
QPAY_SOURCE = "abc_spec/components/schemas/Payments/RequestSources/PaymentRequestQPaySource.yaml"

#: ``None``: keep the field's own keywords; a mapping: an object, keep these of its fields.
Fields = Mapping[str, "Fields | None"]
QPAY_SOURCE_FIELDS: Fields = {
    "type": None,
    "description": None,
    "quantity": None,
    "language": None,
    "national_id": None,
}
PAYMENT_FIELDS: Fields = {
    "source": QPAY_SOURCE_FIELDS,
    "amount": None,
    "currency": None,
    "payment_type": None,
    "reference": None,
    "description": None,
    "customer": None,
    "processing_channel_id": None,
    "success_url": None,
    "failure_url": None,
    "metadata": None,
}
REFUND_FIELDS: Fields = {"amount": None, "reference": None, "metadata": None}

#: ``CustomerRequest`` of ``output/swagger.json`` at ``9ec49d4`` (referenced by the 2021 tree, not in it).
CUSTOMER_REQUEST: dict[str, Any] = {
    "$comment": f"derived from {REPO}@{BUNDLED_COMMIT}:output/swagger.json#/components/schemas/CustomerRequest",
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": r"^(cus)_(\w{26})$"},
        "email": {"type": "string", "format": "email", "maxLength": 255},
        "name": {"type": "string", "maxLength": 255},
    },
}
#: Fields derived from another file than the one their parent references (see the module docstring).
FROM_ELSEWHERE: dict[str, str] = {"source": QPAY_SOURCE}
#: Components kept outside the stored copy.
SUPPLEMENTS: dict[str, dict[str, Any]] = {"CustomerRequest": CUSTOMER_REQUEST}

#: Output file -> (root file, fields kept).
REQUESTS: dict[str, tuple[str, Fields]] = {
    "payment_request.json": (PAYMENTS + "PaymentRequest.yaml", PAYMENT_FIELDS),
    "refund_request.json": (PAYMENTS + "RefundRequest.yaml", REFUND_FIELDS),
}


def find_spec(explicit: str | Path | None = None) -> Path | None:
    """The copy of Checkout's published spec: ``explicit``, ``$QPAY_SHARED_DIR/checkout-api-spec``, or
    ``shared/checkout-api-spec`` beside the repository (where CI and every worktree have it)."""
    candidates = [Path(explicit)] if explicit is not None else []
    if os.environ.get("QPAY_SHARED_DIR"):
        candidates.append(Path(os.environ["QPAY_SHARED_DIR"]) / "checkout-api-spec")
    candidates.append(REPO_ROOT.parent / "shared" / "checkout-api-spec")
    return next((c for c in candidates if (c / "nas_spec").is_dir()), None)


def _cite(path: str) -> str:
    return f"derived from {REPO}@{COMMIT}:{path}"


class Spec:
    """The published files of one copy, by component name (every file stem is unique)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = {p.stem: str(p.relative_to(root)) for p in sorted(root.rglob("*.yaml"))}

    def load(self, rel: str) -> dict[str, Any]:
        return dict(yaml.safe_load((self.root / rel).read_text(encoding="utf-8")))

    @staticmethod
    def ref_name(node: Mapping[str, Any]) -> str:
        return str(node["$ref"]).rsplit("/", 1)[1]

    def flatten(self, rel: str) -> tuple[dict[str, Any], list[str]]:
        """The published schema of ``rel`` with its ``allOf`` members merged, and the files it came from
        (referenced files first, ``rel`` last)."""
        return self._flatten(self.load(rel), rel)

    def _flatten(self, node: Mapping[str, Any], rel: str) -> tuple[dict[str, Any], list[str]]:
        own: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        view: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        required: list[str] = []
        cited: list[str] = []
        for member in node.get("allOf", []):
            if "$ref" in member:
                inner, inner_cited = self.flatten(self.files[self.ref_name(member)])
            else:
                inner, inner_cited = self._flatten(member, rel)
            cited += [c for c in inner_cited if c not in cited]
            properties.update(inner.get("properties", {}))
            required += inner.get("required", [])
            view.update(inner)
        view.update(own)
        properties.update(own.get("properties", {}))
        required += own.get("required", [])
        view["properties"], view["required"] = properties, list(dict.fromkeys(required))
        if rel not in cited:
            cited.append(rel)
        return view, cited


def _keywords(node: Mapping[str, Any]) -> dict[str, Any]:
    return {k: node[k] for k in KEYWORDS if k in node and k != "required"}


def derive_object(spec: Spec, rel: str, fields: Fields) -> dict[str, Any]:
    view, cited = spec.flatten(rel)
    out: dict[str, Any] = {"$comment": "; ".join(_cite(c) for c in cited), **_keywords(view)}
    required = [r for r in view.get("required", []) if r in fields]
    if required:
        out["required"] = required
    properties: dict[str, Any] = {}
    for name, sub in fields.items():
        published = view["properties"][name]
        if name in FROM_ELSEWHERE:
            properties[name] = derive_object(spec, FROM_ELSEWHERE[name], sub or {})
        elif "$ref" in published:
            component = spec.ref_name(published)
            if component in SUPPLEMENTS:
                properties[name] = SUPPLEMENTS[component]
            else:
                properties[name] = derive_object(spec, spec.files[component], sub or {})
        else:
            properties[name] = _keywords(published)
    out["properties"] = properties
    return out


def derive_all(spec_root: Path) -> dict[str, dict[str, Any]]:
    spec = Spec(spec_root)
    return {name: derive_object(spec, rel, fields) for name, (rel, fields) in REQUESTS.items()}


def render(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cko_sim.spec_derive", description=__doc__.split("\n")[0])
    parser.add_argument("--spec", help="the copy of checkout-api-reference (default: ../shared/checkout-api-spec)")
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when a file differs")
    args = parser.parse_args(argv)
    root = find_spec(args.spec)
    if root is None:
        print("no copy of Checkout's published spec found (../shared/checkout-api-spec)", file=sys.stderr)
        return 2
    stale = []
    for name, schema in derive_all(root).items():
        path = OUT_DIR / name
        text = render(schema)
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
            continue
        OUT_DIR.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    if stale:
        print(f"stale: {', '.join(stale)} (run python -m cko_sim.spec_derive)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
