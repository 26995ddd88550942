"""The upgrade gate (infra/tools/upgrade.py, review D2): a stack of the last release must update to
this template. Each refused case is one CloudFormation or DynamoDB refuses, or one that loses data."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.tools import upgrade
from tests.deploy.conftest import ROOT

CHANGELOG = (ROOT / "CHANGELOG.md").read_text()


@pytest.fixture(scope="module")
def current() -> dict[str, Any]:
    return upgrade.load(ROOT / "template.yaml")


def _gsis(t: dict[str, Any]) -> list[dict[str, Any]]:
    gsis: list[dict[str, Any]] = t["Resources"]["PaymentsTable"]["Properties"]["GlobalSecondaryIndexes"]
    return gsis


def _without(t: dict[str, Any], *indexes: str) -> dict[str, Any]:
    out = copy.deepcopy(t)
    out["Resources"]["PaymentsTable"]["Properties"]["GlobalSecondaryIndexes"] = [
        g for g in _gsis(out) if g["IndexName"] not in indexes
    ]
    return out


def test_the_template_updates_from_the_last_release(current: dict[str, Any]) -> None:
    release, old = upgrade.last_release()
    assert upgrade.problems(old, upgrade.shape(current), CHANGELOG) == [], release


def test_the_baseline_is_the_table_of_its_commit() -> None:
    baseline = json.loads(upgrade.BASELINE.read_text())
    try:
        at_commit = upgrade.release_template(baseline["commit"])
    except upgrade.UpgradeError as exc:  # a shallow clone: the commit is not here
        pytest.skip(str(exc))
    assert upgrade.shape(at_commit) == baseline["shape"]


def test_d2_two_indexes_in_one_update_are_refused(current: dict[str, Any]) -> None:
    """The commits before 6e8f89a had two indexes; 6e8f89a added by-cko-id and open-refunds at once."""
    old = upgrade.shape(_without(current, "by-cko-id", "open-refunds"))
    found = upgrade.problems(old, upgrade.shape(current), CHANGELOG)
    assert any("2 GSI creations/deletions" in p for p in found), found


def test_one_new_index_passes_only_when_the_changelog_names_it(current: dict[str, Any]) -> None:
    old = upgrade.shape(_without(current, "open-refunds"))
    new = upgrade.shape(current)
    found = upgrade.problems(old, new, CHANGELOG)
    assert found == [
        "PaymentsTable: index open-refunds created, deleted or changed: "
        "CHANGELOG.md's Unreleased section does not name 'open-refunds'"
    ]
    named = CHANGELOG.replace("### Stateful\n", "### Stateful\n\n- New index `open-refunds`.\n", 1)
    assert upgrade.problems(old, new, named) == []
    # the name in an older release's section does not count
    assert upgrade.problems(old, new, CHANGELOG + "\n## v0.0.1\n\n- open-refunds\n") == found


def test_an_index_whose_keys_change_counts_as_two(current: dict[str, Any]) -> None:
    new = copy.deepcopy(current)
    (g,) = [g for g in _gsis(new) if g["IndexName"] == "by-cko-id"]
    g["KeySchema"] = [{"AttributeName": "cko_id", "KeyType": "HASH"}, {"AttributeName": "pk", "KeyType": "RANGE"}]
    found = upgrade.problems(upgrade.shape(current), upgrade.shape(new), CHANGELOG + "by-cko-id")
    assert any("2 GSI creations/deletions" in p and "changed ['by-cko-id']" in p for p in found), found


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r["PaymentsTable"]["Properties"]["KeySchema"].pop(), "key schema changed"),
        (lambda r: r["PaymentsTable"]["Properties"].update(TableName="payments-v2"), "replaces it"),
        (lambda r: r["CheckoutKeysSecret"]["Properties"].update(Name="qpay/keys"), "replaces it"),
        (lambda r: r.update(KeysSecret=r.pop("CheckoutKeysSecret")), "removed or renamed"),
        (lambda r: r["PaymentsTable"].update(DeletionPolicy="Delete"), "removed or renamed"),
    ],
)
def test_losing_a_retained_resource_is_refused(current: dict[str, Any], change: Any, expected: str) -> None:
    new = copy.deepcopy(current)
    change(new["Resources"])
    found = upgrade.problems(upgrade.shape(current), upgrade.shape(new), CHANGELOG)
    assert any(expected in p for p in found), found


def test_stream_and_ttl_changes_must_be_named(current: dict[str, Any]) -> None:
    new = copy.deepcopy(current)
    props = new["Resources"]["PaymentsTable"]["Properties"]
    props["StreamSpecification"]["StreamViewType"] = "KEYS_ONLY"
    props["TimeToLiveSpecification"]["AttributeName"] = "ttl"
    found = upgrade.problems(upgrade.shape(current), upgrade.shape(new), CHANGELOG)
    assert len(found) == 2 and all("does not name" in p for p in found), found


def test_the_gate_reads_the_newest_release_tag(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@example.qa", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "x")
    assert upgrade.last_release_tag(tmp_path) is None
    for tag in ("v0.9.0", "v0.10.0", "v0.2.1", "release-1"):
        git("tag", tag)
    assert upgrade.last_release_tag(tmp_path) == "v0.10.0"


def test_the_changelog_names_every_release_and_the_baseline() -> None:
    baseline = json.loads(upgrade.BASELINE.read_text())
    assert f"## {baseline['release']} " in CHANGELOG and baseline["commit"] in CHANGELOG
    assert upgrade.unreleased(CHANGELOG).strip().startswith("### Stateful")
