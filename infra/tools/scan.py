"""Outside security scanners, offline: Checkov on the TRANSFORMED template and Bandit on ``functions/``.

- Checkov (``--framework cloudformation --skip-download``: no network) on ``build/transformed.json``
  (``make validate`` writes it first) and the companion templates (``infra/edge/``). Every failed check fails the gate; a check that does not apply
  is skipped IN THE TEMPLATE (``Metadata.checkov.skip`` with a one-line ``comment``), so the reason
  sits next to the resource. A skip without a comment fails too.
- Bandit on ``functions/`` (the code that ships). Every finding must be explained in ``EXPLAINED``
  below, matched by test id, file and the flagged line's text (not its number, which moves): a new
  finding, or an old one on a changed line, fails the gate. Product code stays free of ``# nosec``.

Runs in the gate's venv (both tools are pinned in infra/tools/validate-requirements.txt).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

_ASSERT = (
    "narrows a type for mypy after the value was checked or required earlier (validator or caller); "
    "Lambda never runs python -O, and a failed assert is an error, never a silent pass"
)
_JITTER = "jitter between retries (timing only), not a secret or token: random is the right tool"

#: (Bandit test id, file, the flagged line stripped) -> why it is not a problem.
EXPLAINED: dict[tuple[str, str, str], str] = {
    ("B101", "functions/qpay/api/requests.py", "assert reference is not None"): _ASSERT,
    ("B101", "functions/qpay/api/requests.py", "assert amount is not None"): _ASSERT,
    ("B101", "functions/qpay/api/requests.py", "assert description is not None"): _ASSERT,
    ("B101", "functions/qpay/api/requests.py", "assert quantity is not None"): _ASSERT,
    ("B101", "functions/qpay/api/requests.py", "assert national_id is not None"): _ASSERT,
    ("B101", "functions/qpay/domain/refunds.py", "assert amount is not None"): _ASSERT,
    ("B101", "functions/qpay/handlers/refund_request.py", "assert idem is not None"): _ASSERT,
    ("B101", "functions/qpay/service/payments.py", "assert existing.cko_id is not None"): _ASSERT,
    ("B101", "functions/qpay/service/reconcile.py", "assert payment.cko_id is not None"): _ASSERT,
    ("B101", "functions/qpay/service/refund_outcomes.py", "assert amount is not None"): _ASSERT,
    ("B101", "functions/qpay/service/refund_outcomes.py", "assert isinstance(result, ApplyResult)"): _ASSERT,
    ("B101", "functions/qpay/service/refunds.py", "assert ports.checkout is not None"): _ASSERT,
    ("B311", "functions/qpay/adapters/checkout.py", "self._rng = rng or random.Random()"): _JITTER,
    (
        "B311",
        "functions/qpay/adapters/store/payments.py",
        "time.sleep(random.uniform(0.01, 0.05 * 2**attempt))",
    ): _JITTER,
    (
        "B105",
        "functions/qpay/adapters/secrets.py",
        'keys = parse_keys(doc) if isinstance(doc, dict) else Keys(problems={"secret": "must be a JSON object"})',
    ): "an error message about the secret's shape, not a password",
    (
        "B105",
        "functions/qpay/domain/ids.py",
        'CLIENT_SECRET_MARK = "_secret_"  # noqa: S105 - a separator, not a secret',
    ): "the separator inside a client-secret string, not a secret",
    (
        "B104",
        "functions/qpay/settings.py",
        'LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})  # noqa: S104 - a list to refuse, not a bind',
    ): "the hosts prod refuses to call, not an address anything binds to",
}


#: No network (--skip-download), JSON with the skipped checks (--quiet would drop them: their reasons
#: are checked).
CHECKOV_OPTIONS = ("--skip-download", "--compact", "-o", "json")


def checkov(transformed: Path, companions: list[Path]) -> tuple[list[str], dict[str, Any]]:
    """(failures, summary): failed checks, and skips without a reason (the template and its companions)."""
    files = [x for f in (transformed, *companions) for x in ("-f", str(f))]
    done = subprocess.run(  # noqa: S603 - the venv's own checkov, fixed arguments
        [str(BIN / "checkov"), *files, "--framework", "cloudformation", *CHECKOV_OPTIONS],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if not done.stdout.strip():
        return [f"checkov did not run: {done.stderr.strip()[-800:]}"], {}
    doc = json.loads(done.stdout)
    doc = doc[0] if isinstance(doc, list) else doc
    if "results" not in doc:  # "no resources": a template checkov could not read is a failure
        return [f"checkov found nothing to check in {transformed}"], doc.get("summary", {})
    failures = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in doc["results"].get("failed_checks", [])]
    for c in doc["results"].get("skipped_checks", []):
        comment = str((c.get("check_result") or {}).get("suppress_comment") or "").strip()
        if not comment or comment == "No comment provided":
            failures.append(
                f"{c['check_id']} {c['resource']}: skipped without a reason (Metadata.checkov.skip comment)"
            )
    return failures, dict(doc.get("summary", {}))


def bandit(paths: list[Path]) -> tuple[list[str], int, list[str]]:
    """(unexplained findings, explained count, stale explanations)."""
    done = subprocess.run(  # noqa: S603 - the venv's own bandit, fixed arguments
        [str(BIN / "bandit"), "-r", *map(str, paths), "-f", "json", "-q"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=ROOT,
    )
    if not done.stdout.strip():
        return [f"bandit did not run: {done.stderr.strip()[-800:]}"], 0, []
    doc = json.loads(done.stdout)
    unexplained: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    explained = 0
    for r in doc.get("results", []):
        lines = {
            int(n): text for n, _, text in (ln.partition(" ") for ln in r["code"].splitlines() if ln[:1].isdigit())
        }
        key = (r["test_id"], r["filename"], lines.get(int(r["line_number"]), "").strip())
        if key in EXPLAINED:
            seen.add(key)
            explained += 1
        else:
            unexplained.append(f"{r['test_id']} {r['filename']}:{r['line_number']}: {r['issue_text']} ({key[2]!r})")
    stale = [f"{k[0]} {k[1]}: {k[2]!r}" for k in EXPLAINED if k not in seen]
    return unexplained, explained, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--transformed", type=Path, default=ROOT / "build/transformed.json")
    parser.add_argument("--no-companions", action="store_true", help="only --transformed (not infra/edge/)")
    parser.add_argument("--code", type=Path, action="append", default=None, help="default: functions/qpay")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    companions = [] if args.no_companions else sorted((ROOT / "infra/edge").glob("*.yaml"))
    failures, summary = checkov(args.transformed, companions)
    checkov_s = time.perf_counter() - started
    unexplained, explained, stale = bandit(args.code or [Path("functions/qpay")])
    for line in stale if args.code is None else []:
        print(f"note: bandit explanation no longer matches a finding (remove it): {line}", file=sys.stderr)
    problems = [f"checkov {f}" for f in failures] + [f"bandit {u}" for u in unexplained]
    if problems:
        print("scan: FAILED:\n  - " + "\n  - ".join(problems), file=sys.stderr)
        return 1
    print(
        f"scan: checkov {summary.get('passed', 0)} passed, {summary.get('skipped', 0)} skipped with a reason, "
        f"0 failed ({checkov_s:.1f} s); bandit 0 unexplained, {explained} explained "
        f"({time.perf_counter() - started - checkov_s:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
