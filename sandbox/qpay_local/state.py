"""The local state folder (``.local-state/``, git-ignored): what ``make run`` keeps between runs.

- ``keys.json`` (mode 0600): the keys (secret contract shape) and the AWS credentials, created on the
  first run and reused, so a storefront's ``.env`` keeps working across restarts; ``--fresh-keys``
  rotates them, ``--keys-file PATH`` uses another file.
- ``env.local``: ``KEY=VALUE`` lines for a Node/PHP storefront (dotenv format), rewritten on each start.
- ``stack.json``: where the running stack listens (API, simulator, AWS endpoint, table), for
  ``make trigger``; removed when the stack stops.

Files are written atomically (temporary file + rename) with owner-only permissions.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qpay_local.keys import KeysInvalid, LocalCredentials, LocalKeys

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = REPO_ROOT / ".local-state"
KEYS_FILE = "keys.json"
ENV_FILE = "env.local"
RUNTIME_FILE = "stack.json"
FORMAT_VERSION = 1


class StateError(Exception):
    """A state file cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class StoredKeys:
    keys: LocalKeys
    credentials: LocalCredentials
    path: Path
    origin: str  # "created" | "loaded" | "rotated"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only (0600; folder 0700 if new)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def keys_path(state_dir: Path | None = None, keys_file: Path | None = None) -> Path:
    return Path(keys_file) if keys_file is not None else Path(state_dir or DEFAULT_STATE_DIR) / KEYS_FILE


def _read_keys(path: Path, region: str) -> tuple[LocalKeys, LocalCredentials]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StateError(f"{path} is not readable JSON ({exc}); fix it or start with --fresh-keys") from None
    try:
        if not isinstance(doc, dict):
            raise KeysInvalid("the file must hold a JSON object")
        return LocalKeys.from_doc(doc.get("secret")), LocalCredentials.from_doc(
            doc.get("aws_credentials"), region=region
        )
    except KeysInvalid as exc:
        raise StateError(f"{path}: {exc}; fix it or start with --fresh-keys") from None


def save_keys(path: Path, keys: LocalKeys, credentials: LocalCredentials) -> None:
    doc = {
        "version": FORMAT_VERSION,
        "note": "qpay local stack dev keys (never production keys); delete or --fresh-keys to rotate",
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "secret": keys.to_doc(),
        "aws_credentials": credentials.to_doc(),
    }
    write_private(path, json.dumps(doc, indent=2) + "\n")


def load_or_create_keys(path: Path, *, region: str, fresh: bool = False) -> StoredKeys:
    """Reuse the keys in ``path``; create them if missing; new ones if ``fresh``."""
    if path.exists() and not fresh:
        keys, creds = _read_keys(path, region)
        if (
            json.loads(path.read_text(encoding="utf-8"))["secret"].get("event_forwarding_secret")
            != keys.forwarding_secret
        ):
            save_keys(path, keys, creds)  # the forwarding secret was upgraded to the Standard Webhooks format
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # someone widened it: these are credentials
        return StoredKeys(keys, creds, path, "loaded")
    origin = "rotated" if path.exists() else "created"
    keys, creds = LocalKeys.generate(), LocalCredentials.generate(region)
    save_keys(path, keys, creds)
    return StoredKeys(keys, creds, path, origin)


def env_lines(info: dict[str, str]) -> str:
    """dotenv text: ``KEY=VALUE`` lines (values are URL/key characters only, so never quoted)."""
    out = [
        "# Written by `make run` on each start (qpay local stack). Dev keys only, never production keys.",
        "# Load it in a Node/PHP storefront (dotenv, vlucas/phpdotenv) to call the local API.",
    ]
    for key, value in info.items():
        if "\n" in value or "=" in key:
            raise ValueError(f"cannot write {key!r} to a dotenv file")
        out.append(f"{key}={value}")
    return "\n".join(out) + "\n"


def write_env_local(directory: Path, info: dict[str, str]) -> Path:
    path = directory / ENV_FILE
    write_private(path, env_lines(info))
    return path


def write_runtime(directory: Path, info: dict[str, Any]) -> Path:
    path = directory / RUNTIME_FILE
    write_private(path, json.dumps({**info, "pid": os.getpid()}, indent=2) + "\n")
    return path


def remove_runtime(directory: Path) -> None:
    """Remove ``stack.json`` if this process wrote it (another stack may have replaced it)."""
    path = directory / RUNTIME_FILE
    with contextlib.suppress(OSError, ValueError, json.JSONDecodeError):
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()


def read_runtime(directory: Path) -> dict[str, Any]:
    path = directory / RUNTIME_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StateError(f"no running local stack ({path} is missing): start one with `make run`") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise StateError(f"{path} is not readable ({exc})") from None
    if not isinstance(doc, dict):
        raise StateError(f"{path} is not a JSON object")
    return doc


def read_keys(path: Path, region: str = "us-east-1") -> tuple[LocalKeys, LocalCredentials]:
    if not path.exists():
        raise StateError(f"{path} is missing: start the stack once with `make run`")
    return _read_keys(path, region)
