"""The schemas in ``schemas.py`` are ours, derived from Checkout's published OpenAPI, and say so.

Always: each is a valid draft 2020-12 schema, names its source, and the checker enforces the
formats and integer semantics the spec relies on; the README carries the licence and the citation.

Where a copy of the published files is at hand (``shared/checkout-api-spec`` beside the repository, as
in every worktree and in CI's clone, or ``$QPAY_SHARED_DIR/checkout-api-spec``; skipped only where
there is none):

- the request schemas the simulator validates with (``sandbox/cko_sim/spec/*.json``) are exactly what
  ``python -m cko_sim.spec_derive`` derives from the published files now;

- no file of the repository is a copy of one of them (byte for byte, after normalising line ends and
  trailing spaces, or as the same parsed YAML/JSON);
- every derived constraint agrees with the published file it cites: for each field we keep, the
  same type, enum, pattern, limits, format and ``required`` list (the listed errata excepted), and
  every field we keep is published or a listed simulator extension;
- each operation's published statuses and response schemas are the ones derived.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from cko_sim import spec_derive, spec_schemas
from tests.contracts import schemas
from tests.contracts.checker import Validator, errors

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
README = HERE / "README.md"

#: Folders that are not the project's files (virtualenvs, caches, build output).
NOT_OURS = {
    ".git",
    ".venv",
    ".bootstrap",
    "node_modules",
    ".hypothesis",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".aws-sam",
    "build",
    "bench-results",
    ".local-state",
}
#: Keywords compared between a derived node and the published one.
KEYWORDS = ("type", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "format", "minItems", "required")
_CITATION = re.compile(r"^derived from (?P<repo>[\w.-]+/[\w.-]+)@(?P<commit>[0-9a-f]{40}):(?P<path>\S+)$")


def _shared_spec() -> Path | None:
    """``$QPAY_SHARED_DIR/checkout-api-spec`` or ``shared/checkout-api-spec`` beside the repository root
    (where every worktree and CI's clone have it)."""
    return spec_derive.find_spec()


@pytest.fixture(scope="module")
def shared() -> Path:
    found = _shared_spec()
    if found is None:
        pytest.skip("no copy of Checkout's published spec beside the repository (../shared/checkout-api-spec)")
    return found


# --- always --------------------------------------------------------------------------------------


def _all_schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    yield from schemas.ALL.items()
    for name, operation in schemas.OPERATIONS.items():
        for status, schema in operation.responses.items():
            if schema is not None:
                yield f"{name} {status}", schema


@pytest.mark.parametrize(("name", "schema"), list(_all_schemas()), ids=lambda v: v if isinstance(v, str) else "")
def test_each_schema_is_valid_and_names_its_source(name: str, schema: dict[str, Any]) -> None:
    Validator.check_schema(schema)
    comment = str(schema.get("$comment", ""))
    assert comment.startswith(("derived from ", schemas.OURS)), f"{name} names no source"
    for part in comment.split("; "):
        if part.startswith("derived from "):
            match = _CITATION.match(part.split(" (")[0])
            assert match, part
            assert match["repo"] in (schemas.REPO, schemas.FORK)


def test_every_operation_cites_its_path_file() -> None:
    for name, operation in schemas.OPERATIONS.items():
        assert _CITATION.match(operation.source.split(" (")[0]), name


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "string", "format": "date-time"}, "2026-01-02"),
        ({"type": "string", "format": "date-time"}, "yesterday"),
        ({"type": "string", "format": "email"}, "shopper"),
        ({"type": "string", "format": "uri"}, "https://shop.example/caf\u00e9"),
        ({"type": "string", "format": "uri"}, "https://shop.example/a b"),
        ({"type": "string", "format": "uri"}, "shop.example/return"),
        ({"type": "integer"}, 1.0),
        ({"type": "integer"}, True),
    ],
)
def test_the_checker_enforces_formats_and_openapi_integers(schema: dict[str, Any], value: Any) -> None:
    assert errors(schema, value)


def test_the_checker_accepts_what_the_formats_allow() -> None:
    assert errors({"format": "date-time"}, "2026-01-02T03:04:05.678Z") == []
    assert errors({"format": "uri"}, "https://shop.example/return/success?payment_id=qpp_1") == []
    assert errors({"format": "email"}, "shopper@shop.example") == []


def test_readme_carries_licence_citation_errata_and_extensions() -> None:
    readme = README.read_text(encoding="utf-8")
    for needed in (
        "MIT",
        "Copyright (c) 2016 Ivan Goncharov",
        schemas.REPO,
        schemas.COMMIT,
        schemas.BUNDLED_COMMIT,
        schemas.FORK,
        schemas.FORK_OPERATION_COMMIT,
        schemas.FORK_SCHEMA_COMMIT,
    ):
        assert needed in readme, needed
    for erratum in schemas.ERRATA:
        assert erratum.source.rsplit("/", 1)[1] in readme
    for extension in schemas.SIMULATOR_EXTENSIONS:
        assert f"`{extension}`" in readme


# --- against the published files ------------------------------------------------------------------


def _project_files() -> Iterator[Path]:
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in NOT_OURS]
        for name in files:
            yield Path(folder) / name


def _normalised(data: bytes) -> bytes:
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    return b"\n".join(line.rstrip() for line in lines).strip()


def _parsed(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (UnicodeDecodeError, ValueError, yaml.YAMLError):
        return None


def test_no_project_file_is_a_copy_of_a_published_file(shared: Path) -> None:
    published = [p for p in sorted(shared.rglob("*")) if p.is_file()]
    digests = {}
    parsed = []
    for p in published:
        data = p.read_bytes()
        digests[hashlib.sha256(data).hexdigest()] = p
        digests[hashlib.sha256(_normalised(data)).hexdigest()] = p
        if p.suffix in (".yaml", ".yml") and isinstance(value := _parsed(p), dict | list):
            parsed.append((value, p))
    assert len(published) > 50
    copies = []
    checked = 0
    for path in _project_files():
        data = path.read_bytes()
        checked += 1
        for digest in (hashlib.sha256(data).hexdigest(), hashlib.sha256(_normalised(data)).hexdigest()):
            if digest in digests:
                copies.append(f"{path.relative_to(ROOT)} = {digests[digest].relative_to(shared)}")
        if path.suffix in (".json", ".yaml", ".yml"):
            value = _parsed(path)
            copies += [f"{path.relative_to(ROOT)} parses as {p.relative_to(shared)}" for v, p in parsed if v == value]
    assert checked > 100
    assert copies == []


def _cited(node: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(repo, commit, path) of each source a node's ``$comment`` names."""
    found = []
    for part in str(node.get("$comment", "")).split("; "):
        match = _CITATION.match(part)
        if match:
            found.append((match["repo"], match["commit"], match["path"]))
    return found


def _names(node: dict[str, Any]) -> set[str]:
    """The component names a derived node stands for: file stems, bundled names, our stand-ins."""
    names = {
        Path(path.split("#")[0]).stem if "#" not in path else path.rsplit("/", 1)[1] for _, _, path in _cited(node)
    }
    comment = str(node.get("$comment", ""))
    if comment.startswith(schemas.OURS):
        names.add(comment.removeprefix(schemas.OURS).split(" ")[0])
    return names


def _ref_name(node: dict[str, Any]) -> str:
    return str(node["$ref"]).rsplit("/", 1)[1]


def _flatten(published: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A published schema with the inline members of its ``allOf`` merged in, and the names it ``$ref``s."""
    view = {k: v for k, v in published.items() if k not in ("allOf", "$ref")}
    refs = [_ref_name(published)] if "$ref" in published else []
    for member in published.get("allOf", []):
        if "$ref" in member:
            refs.append(_ref_name(member))
            continue
        inner, inner_refs = _flatten(member)
        refs += inner_refs
        for key, value in inner.items():
            if key == "properties":
                view["properties"] = {**view.get("properties", {}), **value}
            elif key == "required":
                view["required"] = sorted({*view.get("required", []), *value})
            else:
                view.setdefault(key, value)
    return view, refs


@dataclass
class Comparison:
    shared: Path
    problems: list[str] = field(default_factory=list)
    compared_files: set[str] = field(default_factory=set)
    errata_seen: set[str] = field(default_factory=set)
    extensions_seen: set[str] = field(default_factory=set)

    def published(self, path: str) -> dict[str, Any]:
        return dict(yaml.safe_load((self.shared / path).read_text(encoding="utf-8")))

    def visit(self, node: dict[str, Any], dotted: str) -> None:
        """Compare a derived node that names its sources, or walk into it when none is at hand."""
        ours = [path for repo, commit, path in _cited(node) if (repo, commit) == (schemas.REPO, schemas.COMMIT)]
        ours = [path for path in ours if "#" not in path and (self.shared / path).is_file()]
        if not ours:
            self.walk(node, dotted)
            return
        view: dict[str, Any] = {}
        for path in ours:
            self.compared_files.add(path)
            flat, _ = _flatten(self.published(path))
            merged, _ = _flatten({"allOf": [view, flat]})
            view = merged
        self.compare(node, view, ours[-1], "", dotted)

    def walk(self, node: dict[str, Any], dotted: str) -> None:
        for name, child in node.get("properties", {}).items():
            self.visit(child, f"{dotted}{name}.")
        if isinstance(node.get("items"), dict):
            self.visit(node["items"], f"{dotted}[].")
        for member in node.get("anyOf", []):
            self.visit(member, dotted)

    def erratum(self, source: str, pointer: str) -> schemas.Erratum | None:
        return next((e for e in schemas.ERRATA if (e.source, e.where) == (source, pointer)), None)

    def compare(self, node: dict[str, Any], view: dict[str, Any], source: str, pointer: str, dotted: str) -> None:
        where = f"{source}#{pointer or '/'} ({dotted.rstrip('.') or 'root'})"
        for keyword in KEYWORDS:
            published, derived = view.get(keyword), node.get(keyword)
            erratum = self.erratum(source, f"{pointer}/{keyword}")
            if erratum is not None:
                self.errata_seen.add(erratum.where)
                if (published, derived) != (erratum.published, erratum.ours):
                    self.problems.append(f"{where}: erratum {keyword} no longer as listed")
            elif keyword == "minItems" and view.get("type") == "object":
                continue  # an array keyword on an object: a no-op in the published file, not carried over
            elif keyword == "required":
                if set(published or []) != set(derived or []):
                    self.problems.append(f"{where}: required {derived} != published {published}")
            elif published != derived:
                self.problems.append(f"{where}: {keyword} {derived!r} != published {published!r}")
        self.compare_children(node, view, source, pointer, dotted)

    def compare_children(
        self, node: dict[str, Any], view: dict[str, Any], source: str, pointer: str, dotted: str
    ) -> None:
        children = [
            (f"/properties/{name}", f"{dotted}{name}.", child, view.get("properties", {}).get(name))
            for name, child in node.get("properties", {}).items()
        ]
        if isinstance(node.get("items"), dict):
            children.append(("/items", f"{dotted}[].", node["items"], view.get("items")))
        for step, child_dotted, child, published in children:
            if published is None:
                extension = child_dotted.rstrip(".").removeprefix("data.[].").removeprefix("[].")
                if extension in schemas.SIMULATOR_EXTENSIONS:
                    self.extensions_seen.add(extension)
                else:
                    self.problems.append(f"{source}#{pointer}{step}: not published, not a listed extension")
                continue
            flat, refs = _flatten(published)
            if refs:
                if not set(refs) & _names(child):
                    self.problems.append(
                        f"{source}#{pointer}{step}: published as {refs}, derived names {_names(child)}"
                    )
                if "type" in flat and flat["type"] != child.get("type"):
                    self.problems.append(f"{source}#{pointer}{step}: type {child.get('type')} != {flat['type']}")
                self.visit(child, child_dotted)
            else:
                self.compare(child, flat, source, pointer + step, child_dotted)


def test_derived_constraints_agree_with_the_published_files(shared: Path) -> None:
    comparison = Comparison(shared)
    for _, schema in _all_schemas():
        comparison.visit(schema, "")
    assert comparison.problems == []
    cited = {
        path
        for _, schema in _all_schemas()
        for node in _nodes(schema)
        for repo, commit, path in _cited(node)
        if (repo, commit) == (schemas.REPO, schemas.COMMIT) and "#" not in path
    }
    assert comparison.compared_files == cited
    assert comparison.errata_seen == {e.where for e in schemas.ERRATA if not e.source.startswith("nas_spec/paths/")}
    assert comparison.extensions_seen == set(schemas.SIMULATOR_EXTENSIONS)


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def test_operations_publish_the_derived_statuses_and_bodies(shared: Path) -> None:
    for name, operation in schemas.OPERATIONS.items():
        citation = _CITATION.match(operation.source.split(" (")[0])
        assert citation
        if (citation["repo"], citation["commit"]) != (schemas.REPO, schemas.COMMIT):
            continue  # the list operation: a later revision, not in the stored copy
        path = citation["path"]
        method = name.split(" ")[0].lower()
        responses = yaml.safe_load((shared / path).read_text(encoding="utf-8"))[method]["responses"]
        assert {int(s) for s in responses} == set(operation.responses) | {s for s, _ in operation.not_derived}
        for status, schema in operation.responses.items():
            content = responses[str(status)].get("content")
            if schema is None:
                assert not content, f"{name} {status} publishes a body"
                continue
            published = content["application/json"]["schema"]
            if "oneOf" in published:
                pointer = f"/{method}/responses/{status}/content/application~1json/schema/oneOf"
                erratum = next(e for e in schemas.ERRATA if (e.source, e.where) == (path, pointer))
                assert [_ref_name(b) for b in published["oneOf"]] == erratum.published
                assert erratum.ours in _names(schema)
            else:
                assert _ref_name(published) in _names(schema), f"{name} {status}"


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(schema: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = schema
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


WRONG_DERIVATIONS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("PAYMENT_DETAILS", _set("properties.reference.maxLength", 50)),
    ("PAYMENT_DETAILS", _set("properties.status.enum", [*schemas.PAYMENT_STATUSES[:-1]])),
    ("PAYMENT_DETAILS", _set("required", ["id", "requested_on", "amount", "currency", "status", "_links"])),
    ("PAYMENT_DETAILS", _set("properties.amount.type", "number")),
    ("PAYMENT_DETAILS", _set("properties.customer.properties.id.pattern", "^cus_")),
    ("PAYMENT_DETAILS", _set("properties.card_number", {"type": "string"})),
    ("PAYMENT_DETAILS", _set("properties.balances", {"type": "object"})),
    ("PAYMENT_DETAILS", _set("properties.source.properties.description.maxLength", 255)),
    ("PAYMENT_REQUEST", _set("properties.source.properties.national_id.maxLength", 33)),
    ("PAYMENT_REQUEST", _set("properties.success_url.format", "url")),
    ("REFUND_REQUEST", _set("properties.reference.maxLength", 51)),
    ("PAYMENT_ACTIONS", _set("minItems", 0)),
]


@pytest.mark.parametrize(("name", "mutate"), WRONG_DERIVATIONS, ids=lambda v: v if isinstance(v, str) else "")
def test_the_comparison_catches_a_wrong_derivation(
    shared: Path, name: str, mutate: Callable[[dict[str, Any]], None]
) -> None:
    schema = copy.deepcopy(schemas.ALL[name])
    mutate(schema)
    comparison = Comparison(shared)
    comparison.visit(schema, "")
    assert comparison.problems


# --- the request schemas: one source for the simulator and these tests ---------------------------


def test_the_simulator_and_the_contract_tests_validate_with_the_same_request_schemas() -> None:
    assert schemas.PAYMENT_REQUEST is spec_schemas.PAYMENT_REQUEST
    assert schemas.REFUND_REQUEST is spec_schemas.REFUND_REQUEST
    assert spec_schemas.PAYMENT_VALIDATOR.schema is spec_schemas.PAYMENT_REQUEST
    assert spec_schemas.REFUND_VALIDATOR.schema is spec_schemas.REFUND_REQUEST


def test_checked_in_request_schemas_are_what_the_published_spec_gives(shared: Path) -> None:
    derived = spec_derive.derive_all(shared)
    assert set(derived) == {p.name for p in spec_schemas.SPEC_DIR.glob("*.json")}
    for name, schema in derived.items():
        text = (spec_schemas.SPEC_DIR / name).read_text(encoding="utf-8")
        assert text == spec_derive.render(schema), f"{name} is stale: python -m cko_sim.spec_derive"
    assert spec_derive.main(["--spec", str(shared), "--check"]) == 0


def test_the_derivation_follows_the_published_files(shared: Path, tmp_path: Path) -> None:
    """A published limit that changes changes the derived schema (the derivation reads, it does not copy)."""
    copy_root = tmp_path / "checkout-api-spec"
    shutil.copytree(shared, copy_root)
    request = copy_root / spec_derive.PAYMENTS / "PaymentRequest.yaml"
    request.write_text(request.read_text(encoding="utf-8").replace("maxLength: 50", "maxLength: 64"), encoding="utf-8")
    source = copy_root / spec_derive.QPAY_SOURCE
    source.write_text(source.read_text(encoding="utf-8").replace("maxLength: 32", "maxLength: 20"), encoding="utf-8")
    derived = spec_derive.derive_all(copy_root)["payment_request.json"]
    assert derived["properties"]["reference"]["maxLength"] == 64
    assert derived["properties"]["source"]["properties"]["national_id"]["maxLength"] == 20
    assert derived != spec_schemas.PAYMENT_REQUEST
    assert spec_derive.main(["--spec", str(copy_root), "--check"]) == 1
