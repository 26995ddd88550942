"""Write ``OUT_DIR/endpoints.json``: botocore's endpoints file with every partition but only the
services the product calls.

botocore parses ``endpoints.json`` (1.2 MB, every AWS service) on the first client of every cold start.
The functions set ``AWS_DATA_PATH`` to the folder this writes, and botocore's loader reads data files
from ``AWS_DATA_PATH`` before its own, so the trimmed copy replaces the full one for them. Request
URLs come from each service's endpoint rule set and ``partitions.json``, which stay botocore's own; the
trimmed file only has to keep, for the services kept, what the full one says (signing region, the
credential scope, FIPS and legacy global endpoints). ``tests/deploy/test_endpoints.py`` checks that
every kept service resolves to the same URLs in every region.

Usage: ``python infra/build/trim_endpoints.py OUT_DIR [--source DATA_DIR]`` (default: the data folder of
the ``botocore`` this Python imports).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: botocore client names the product creates (``qpay.adapters.dynamo.make_client`` and Powertools'
#: Secrets Manager provider). A service not listed still works: botocore falls back to the partition's
#: default hostname template; listing it keeps its exact variants.
CLIENTS = ("dynamodb", "dynamodbstreams", "secretsmanager", "stepfunctions", "events")


def default_source() -> Path:
    import botocore  # noqa: PLC0415

    return Path(botocore.__file__).resolve().parent / "data"


def _load(path: Path) -> Any:
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    import gzip  # noqa: PLC0415

    with gzip.open(path.with_name(path.name + ".gz"), "rt", encoding="utf-8") as fh:
        return json.load(fh)


def endpoint_prefix(source: Path, client: str) -> str:
    """The key a client's service has in endpoints.json (``metadata.endpointPrefix`` of its model)."""
    versions = sorted(p for p in (source / client).iterdir() if p.is_dir())
    if not versions:
        raise FileNotFoundError(f"no service model for {client} under {source}")
    model = _load(versions[-1] / "service-2.json")
    return str(model["metadata"]["endpointPrefix"])


def trimmed(full: dict[str, Any], services: set[str]) -> dict[str, Any]:
    """Every partition with its regions and defaults, and only ``services``."""
    out = dict(full)
    out["partitions"] = [
        {**partition, "services": {k: v for k, v in partition.get("services", {}).items() if k in services}}
        for partition in full["partitions"]
    ]
    return out


def write(out_dir: Path, source: Path | None = None) -> Path:
    source = source or default_source()
    services = {endpoint_prefix(source, c) for c in CLIENTS}
    doc = trimmed(_load(source / "endpoints.json"), services)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "endpoints.json"
    target.write_text(json.dumps(doc, separators=(",", ":"), sort_keys=True), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Trim botocore's endpoints.json to the services the product uses")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--source", type=Path, default=None, help="botocore data folder (default: imported botocore)")
    args = parser.parse_args(argv)
    target = write(args.out_dir, args.source)
    print(f"trim_endpoints: {target} ({target.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
