"""The embedded AWS: moto's server on a loopback port, and the resources of the template in it.

Also creates the table in DynamoDB Local when that is the DynamoDB endpoint. Everything is created
from the template's own resource properties.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import urllib.request
from typing import Any

import boto3
from botocore.config import Config

from qpay_local.httpserver import check_free
from qpay_local.keys import LocalCredentials

log = logging.getLogger("qpay_local.aws")

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


class MotoServer:
    """``moto.server.ThreadedMotoServer`` on 127.0.0.1 (port 0: ephemeral), reset on start and stop."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - heavy import, only when used

        check_free(host, port, "moto")
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.host = host
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._server.start()
        self.port = int(self._server.get_host_and_port()[1])
        # moto's Step Functions engine invokes Lambda through http://localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.port)
        self._post("/moto-api/reset", {})
        self._post("/moto-api/config", MOTO_CONFIG)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._post("/moto-api/reset", {})
        self._server.stop()
        inner = getattr(self._server, "_server", None)
        if inner is not None:
            inner.server_close()  # ThreadedMotoServer.stop() leaves the socket bound

    def _post(self, path: str, doc: dict[str, Any]) -> None:
        req = urllib.request.Request(  # noqa: S310 - loopback only
            self.url + path, data=json.dumps(doc).encode(), method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            resp.read()


def client(service: str, endpoint: str, creds: LocalCredentials) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=creds.region,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2, read_timeout=10),
    )


def create_table_params(name: str, props: dict[str, Any]) -> dict[str, Any]:
    """``CreateTable`` parameters from an ``AWS::DynamoDB::Table``'s properties."""
    params: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if "ProvisionedThroughput" in props:
        params["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(key):
            indexes = []
            for index in props[key]:
                ix = {
                    k: v
                    for k, v in index.items()
                    if k in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
                }
                indexes.append(ix)
            params[key] = indexes
    stream = props.get("StreamSpecification")
    if stream:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    if "DeletionProtectionEnabled" in props:
        params["DeletionProtectionEnabled"] = bool(props["DeletionProtectionEnabled"])
    return params


def create_table(ddb: Any, name: str, props: dict[str, Any]) -> dict[str, Any]:
    """Create the table (and its TTL) from the template; return ``DescribeTable``'s ``Table``."""
    ddb.create_table(**create_table_params(name, props))
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        ddb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    table: dict[str, Any] = ddb.describe_table(TableName=name)["Table"]
    return table


def delete_table(ddb: Any, name: str) -> None:
    try:
        ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
        ddb.delete_table(TableName=name)
    except Exception:
        log.debug("could not delete table %s", name, exc_info=True)
