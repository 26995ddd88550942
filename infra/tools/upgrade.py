"""The upgrade gate: can a stack of the last release be updated to this template without losing state?

Compares the stateful shape of ``template.yaml`` (the payments table's keys, attribute types, GSIs,
stream and TTL; every resource whose ``DeletionPolicy`` retains it and the properties whose change
replaces it) with the last release: the newest ``v<major>.<minor>.<patch>`` git tag if there is one,
else ``infra/release-baseline.json`` (written by ``--write-baseline`` when a release is cut). Fails on:

- more than one GSI created or deleted in one update (DynamoDB: "Cannot perform more than one GSI
  creation or deletion in a single update"; an index whose keys change counts twice);
- a change of the table's key schema or of the type of a key attribute (CloudFormation replaces the
  table: a new empty table, the retained old one orphaned);
- a retained resource removed, renamed (logical id) or with a replacement property changed;
- a stateful change (GSI, stream, TTL) that CHANGELOG.md's "Unreleased" section does not name.

Standard library plus cfn-lint's template decoder (both venvs have it). ``python infra/tools/upgrade.py``
exits 1 naming each problem; ``make validate`` runs it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "infra/release-baseline.json"
CHANGELOG = ROOT / "CHANGELOG.md"
TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")

#: Properties whose change makes CloudFormation replace the resource (CloudFormation resource reference,
#: "Update requires: Replacement"), for the resource types this stack retains.
REPLACING = {
    "AWS::DynamoDB::Table": ("TableName", "KeySchema"),
    "AWS::SecretsManager::Secret": ("Name",),
}


#: Deletion policies that keep the resource when the stack deletes or replaces it.
RETAINING = ("Retain", "RetainExceptOnCreate")


class UpgradeError(Exception):
    """The last release cannot be read."""


def load(path: Path) -> dict[str, Any]:
    from cfnlint.decode import decode  # noqa: PLC0415

    doc, matches = decode(str(path))
    if doc is None or matches:
        raise UpgradeError(f"{path} does not parse: {matches}")
    plain: dict[str, Any] = json.loads(json.dumps(doc, default=str))  # cfn-lint's nodes carry positions
    return plain


def shape(template: dict[str, Any]) -> dict[str, Any]:
    """The stateful shape of a template (what the gate compares and the baseline stores)."""
    tables: dict[str, Any] = {}
    retained: dict[str, Any] = {}
    for logical_id, res in (template.get("Resources") or {}).items():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::DynamoDB::Table":
            types = {a["AttributeName"]: a["AttributeType"] for a in props.get("AttributeDefinitions", [])}
            keys = [[k["AttributeName"], k["KeyType"]] for k in props.get("KeySchema", [])]
            tables[logical_id] = {
                "keys": keys,
                "key_types": {name: types.get(name) for name, _ in keys},
                "indexes": {
                    g["IndexName"]: {
                        "keys": [[k["AttributeName"], k["KeyType"]] for k in g["KeySchema"]],
                        "key_types": {k["AttributeName"]: types.get(k["AttributeName"]) for k in g["KeySchema"]},
                        "projection": g.get("Projection", {}),
                    }
                    for g in props.get("GlobalSecondaryIndexes", [])
                },
                "stream": (props.get("StreamSpecification") or {}).get("StreamViewType"),
                "ttl": (props.get("TimeToLiveSpecification") or {}).get("AttributeName"),
            }
        if res.get("DeletionPolicy") in RETAINING:
            kind = str(res.get("Type"))
            retained[logical_id] = {
                "type": kind,
                "replacing": {p: props.get(p) for p in REPLACING.get(kind, ()) if p in props},
            }
    return {"tables": tables, "retained": retained}


@dataclass(frozen=True)
class Finding:
    fatal: bool  # False: allowed, but CHANGELOG must name it
    subject: str  # what CHANGELOG must mention (an index, table or resource name)
    text: str


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    for logical_id, before in old["retained"].items():
        after = new["retained"].get(logical_id)
        if after is None:
            out.append(Finding(True, logical_id, f"retained {logical_id} removed or renamed: it would be orphaned"))
        elif after["type"] != before["type"] or after["replacing"] != before["replacing"]:
            out.append(Finding(True, logical_id, f"retained {logical_id}: a change that replaces it ({after})"))
    for logical_id, before in old["tables"].items():
        after = new["tables"].get(logical_id)
        if after is None:
            continue  # reported as a retained resource (or not retained: nothing to keep)
        if after["keys"] != before["keys"] or after["key_types"] != before["key_types"]:
            out.append(Finding(True, logical_id, f"{logical_id}: key schema changed (the table is replaced)"))
        created = sorted(set(after["indexes"]) - set(before["indexes"]))
        deleted = sorted(set(before["indexes"]) - set(after["indexes"]))
        changed = sorted(
            i for i in set(before["indexes"]) & set(after["indexes"]) if before["indexes"][i] != after["indexes"][i]
        )
        operations = len(created) + len(deleted) + 2 * len(changed)  # a changed index is deleted and created
        if operations > 1:
            out.append(
                Finding(
                    True,
                    logical_id,
                    f"{logical_id}: {operations} GSI creations/deletions in one update (DynamoDB allows one): "
                    f"created {created}, deleted {deleted}, changed {changed}; ship them one release at a time",
                )
            )
        for name in created + deleted + changed:
            out.append(Finding(False, name, f"{logical_id}: index {name} created, deleted or changed"))
        if after["stream"] != before["stream"]:
            out.append(
                Finding(False, "StreamSpecification", f"{logical_id}: stream {before['stream']} -> {after['stream']}")
            )
        if after["ttl"] != before["ttl"]:
            out.append(
                Finding(
                    False, "TimeToLiveSpecification", f"{logical_id}: TTL attribute {before['ttl']} -> {after['ttl']}"
                )
            )
    return out


def unreleased(changelog: str) -> str:
    """CHANGELOG.md's "## Unreleased" section."""
    match = re.search(r"^## Unreleased\s*$(.*?)(?=^## |\Z)", changelog, re.M | re.S)
    return match.group(1) if match else ""


def problems(old: dict[str, Any], new: dict[str, Any], changelog: str) -> list[str]:
    section = unreleased(changelog)
    out = []
    for f in compare(old, new):
        if f.fatal:
            out.append(f.text)
        elif f.subject not in section:
            out.append(f"{f.text}: CHANGELOG.md's Unreleased section does not name {f.subject!r}")
    return out


def last_release_tag(root: Path = ROOT) -> str | None:
    """The newest ``v<major>.<minor>.<patch>`` tag, or None (no git, no tag, a shallow clone without tags)."""
    try:
        done = subprocess.run(
            ["git", "tag", "--list", "v*"],  # noqa: S607 - git from PATH, fixed arguments
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except OSError:
        return None
    tags = [t for t in done.stdout.split() if TAG.match(t)] if done.returncode == 0 else []
    if not tags:
        return None
    return max(tags, key=lambda t: tuple(int(x) for x in TAG.match(t).groups()))  # type: ignore[union-attr]


def release_template(ref: str, root: Path = ROOT) -> dict[str, Any]:
    """template.yaml as of a git ref."""
    done = subprocess.run(  # noqa: S603 - git with a ref from our own tags or baseline
        ["git", "show", f"{ref}:template.yaml"],  # noqa: S607 - git from PATH, fixed arguments
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if done.returncode != 0:
        raise UpgradeError(f"git show {ref}:template.yaml: {done.stderr.strip()}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "template.yaml"
        path.write_text(done.stdout, encoding="utf-8")
        return load(path)


def last_release(root: Path = ROOT, baseline: Path = BASELINE) -> tuple[str, dict[str, Any]]:
    """(which release, its stateful shape): the newest tag, else the committed baseline."""
    tag = last_release_tag(root)
    if tag is not None:
        return tag, shape(release_template(tag, root))
    doc = json.loads(baseline.read_text(encoding="utf-8"))
    return f"{doc['release']} (infra/release-baseline.json)", doc["shape"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--changelog", type=Path, default=CHANGELOG)
    parser.add_argument("--write-baseline", metavar="VERSION", help="record this template as release VERSION")
    parser.add_argument("--commit", default="", help="with --write-baseline: the commit the release is")
    args = parser.parse_args(argv)
    new = shape(load(args.template))
    if args.write_baseline:
        doc = {"release": args.write_baseline, "commit": args.commit, "shape": new}
        args.baseline.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"upgrade: {args.baseline} records {args.write_baseline}")
        return 0
    try:
        release, old = last_release(baseline=args.baseline)
    except (UpgradeError, OSError, KeyError, ValueError) as exc:
        print(f"upgrade: FAILED: the last release cannot be read: {exc}", file=sys.stderr)
        return 1
    found = problems(old, new, args.changelog.read_text(encoding="utf-8"))
    if found:
        print(
            f"upgrade: FAILED: a stack of {release} cannot be updated safely:\n  - " + "\n  - ".join(found),
            file=sys.stderr,
        )
        return 1
    changes = compare(old, new)
    print(f"upgrade: a stack of {release} updates to this template ({len(changes)} stateful changes, all named)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
