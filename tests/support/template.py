"""Read template.yaml for tests: the table definition the store tests create in moto / DynamoDB Local."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


@cache
def template() -> dict[str, Any]:
    doc, matches = decode(str(TEMPLATE))
    assert not matches, matches
    return dict(doc)


def table_definition(table_name: str) -> dict[str, Any]:
    props = template()["Resources"]["PaymentsTable"]["Properties"]
    gsis = [
        {"IndexName": g["IndexName"], "KeySchema": list(g["KeySchema"]), "Projection": dict(g["Projection"])}
        for g in props.get("GlobalSecondaryIndexes", [])
    ]
    return {
        "TableName": table_name,
        "AttributeDefinitions": [dict(a) for a in props["AttributeDefinitions"]],
        "KeySchema": [dict(k) for k in props["KeySchema"]],
        "BillingMode": props["BillingMode"],
        "GlobalSecondaryIndexes": gsis,
        "StreamSpecification": {
            "StreamEnabled": True,
            "StreamViewType": props["StreamSpecification"]["StreamViewType"],
        },
    }


def ttl_attribute() -> str:
    return str(template()["Resources"]["PaymentsTable"]["Properties"]["TimeToLiveSpecification"]["AttributeName"])
