"""The trimmed botocore endpoints file (``AWS_DATA_PATH`` in the layer) resolves every service the
product calls to the same URLs and signing scope as botocore's full file, in every region of the
``aws`` partition, and is a small fraction of its size.

Measured with botocore 1.44: request URLs and signing scopes of these services come from their
endpoint rule sets and ``partitions.json``, so even an endpoints file without them resolves the same;
what the trim saves is parsing 1.2 MB of JSON on each cold start (about 11 ms here). These tests pin
that the file botocore loads is the trimmed one and that nothing a request depends on changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore
import botocore.session
import pytest
from botocore.config import Config

from infra.build import trim_endpoints
from tests.deploy.conftest import ROOT, print_report

#: one cheap read per client: the URL is captured before anything is sent
PROBES = {
    "dynamodb": "list_tables",
    "dynamodbstreams": "list_streams",
    "secretsmanager": "list_secrets",
    "stepfunctions": "list_state_machines",
    "events": "list_event_buses",
}


class Captured(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def _capture(request: Any, **_: Any) -> None:
    auth = request.headers["Authorization"]
    auth = auth.decode() if isinstance(auth, bytes) else auth
    scope = auth.split("Credential=")[1].split(",")[0].split("/")  # key/date/region/service/aws4_request
    raise Captured(f"{request.url} signed for {scope[2]}/{scope[3]}")


def _session(data_path: Path | None) -> botocore.session.Session:
    session = botocore.session.Session()
    if data_path is not None:
        session.set_config_variable("data_path", str(data_path))
    session.set_credentials("AKIDEXAMPLE", "secret")  # signing needs some; nothing is sent
    return session


def _urls(session: botocore.session.Session, client_name: str, region: str) -> tuple[str, str]:
    """(the client's endpoint, the URL of a real request) as botocore resolves them."""
    client = session.create_client(
        client_name, region_name=region, config=Config(retries={"total_max_attempts": 1}, signature_version=None)
    )
    client.meta.events.register("before-send", _capture)
    try:
        getattr(client, PROBES[client_name])()
    except Captured as got:
        return client.meta.endpoint_url, got.url
    raise AssertionError("the request was not captured")


@pytest.fixture(scope="module")
def trimmed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("botocore_data")
    trim_endpoints.write(out)
    return out


def test_the_clients_are_the_ones_the_product_creates() -> None:
    assert set(PROBES) == set(trim_endpoints.CLIENTS)


def test_the_build_trims_the_botocore_the_tests_use() -> None:
    pinned = (ROOT / "infra/build/build-requirements.txt").read_text()
    assert f"botocore=={botocore.__version__}\n" in pinned, "pin build-requirements.txt to uv.lock's botocore"


def test_same_urls_in_every_aws_region(trimmed_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")  # as on Lambda (no account in the credentials)
    for var in ("AWS_ENDPOINT_URL", "AWS_DATA_PATH", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    for name in PROBES:
        monkeypatch.delenv(f"AWS_ENDPOINT_URL_{name.upper()}", raising=False)
    full, trimmed = _session(None), _session(trimmed_dir)
    regions = sorted(full.get_available_regions("dynamodb", "aws"))
    assert "me-central-1" in regions and len(regions) > 25
    compared = 0
    for client_name in PROBES:
        for region in sorted(set(regions) | set(full.get_available_regions(client_name, "aws"))):
            assert _urls(trimmed, client_name, region) == _urls(full, client_name, region), (client_name, region)
            compared += 1
    me = {c: _urls(trimmed, c, "me-central-1")[1] for c in PROBES}
    assert me["dynamodb"] == "https://dynamodb.me-central-1.amazonaws.com/ signed for me-central-1/dynamodb"
    assert me["stepfunctions"] == "https://states.me-central-1.amazonaws.com/ signed for me-central-1/states"
    print_report(f"endpoints: {compared} (client, region) pairs resolve identically; me-central-1: {me}")


def test_the_trimmed_file_is_what_botocore_loads_and_is_small(trimmed_dir: Path) -> None:
    session = _session(trimmed_dir)
    loaded = session.get_component("data_loader").load_data("endpoints")
    kept = {k for p in loaded["partitions"] for k in p["services"]}
    assert kept == {"dynamodb", "streams.dynamodb", "secretsmanager", "states", "events"}
    full_doc = json.loads((Path(botocore.__file__).parent / "data/endpoints.json").read_text())
    assert [p["partition"] for p in loaded["partitions"]] == [p["partition"] for p in full_doc["partitions"]]
    full_size = (Path(botocore.__file__).parent / "data/endpoints.json").stat().st_size
    small = (trimmed_dir / "endpoints.json").stat().st_size
    print_report(f"endpoints.json: {full_size:,} B -> {small:,} B ({small / full_size:.1%})")
    assert small < full_size / 20
