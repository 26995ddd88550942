"""The fast tests still catch the bugs that matter most (the CI slice of ``make mutation``).

Each case plants one known bug in the real source of a domain module (a text replacement, compiled and
installed as the module in a fresh interpreter before anything imports it) and runs the fast tests that
should catch it. The subprocess must fail. A control run with no bug must pass, or a broken suite would
"catch" everything. A case whose anchor text is gone from the source fails too: update the case with the
code, never let the guard go quietly stale.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATES = "tests/unit/test_states.py"
DOMAIN = "tests/unit/test_domain.py"
PINS = "tests/unit/test_domain_pins.py"


@dataclass(frozen=True)
class Bug:
    name: str
    module: str
    old: str
    new: str
    tests: tuple[str, ...]


BUGS = [
    Bug(
        "a transition table entry removed",
        "qpay.domain.states",
        '    "payment_canceled": Transition(Stage.CANCELED, OPEN_STAGES),\n',
        "",
        (STATES,),
    ),
    Bug(
        "a transition that no longer leaves Capture Pending",
        "qpay.domain.states",
        '"payment_expired": Transition(Stage.EXPIRED, OPEN_STAGES)',
        '"payment_expired": Transition(Stage.EXPIRED, frozenset({Stage.PENDING}))',
        (STATES,),
    ),
    Bug(
        "a Checkout status remapped",
        "qpay.domain.states",
        '"Declined": "payment_capture_declined",',
        '"Declined": "payment_canceled",',
        (STATES,),
    ),
    Bug(
        "a Checkout status dropped",
        "qpay.domain.states",
        '    "Partially Refunded": "payment_captured",\n',
        "",
        (STATES,),
    ),
    Bug(
        "an expired payment no longer dead (its reference stays taken)",
        "qpay.domain.states",
        "DEAD_STAGES = frozenset({Stage.DECLINED, Stage.CANCELED, Stage.EXPIRED})",
        "DEAD_STAGES = frozenset({Stage.DECLINED, Stage.CANCELED})",
        (STATES,),
    ),
    Bug(
        "a capture of unknown amount shown as Refunded",
        "qpay.domain.states",
        "if captured_amount > 0 and refunded_amount >= captured_amount:",
        "if captured_amount >= 0 and refunded_amount >= captured_amount:",
        (STATES,),
    ),
    Bug(
        "the payment id pattern loosened",
        "qpay.domain.ids",
        'PAYMENT_ID_RE = re.compile(r"^qpp_[a-z2-7]{26}\\Z")',
        'PAYMENT_ID_RE = re.compile(r"^qpp_\\w{26}")',
        (DOMAIN,),
    ),
    Bug(
        "Checkout's payment id pattern without its end anchor",
        "qpay.domain.ids",
        'CKO_PAYMENT_ID_RE = re.compile(r"^pay_\\w{26}\\Z", re.ASCII)',
        'CKO_PAYMENT_ID_RE = re.compile(r"^pay_\\w{26}", re.ASCII)',
        (DOMAIN,),
    ),
    Bug(
        "the refund boundary flipped (the exact balance refused)",
        "qpay.domain.refunds",
        "if requested > refundable:",
        "if requested >= refundable:",
        (DOMAIN,),
    ),
    Bug(
        "an open refund state dropped",
        "qpay.domain.refund_states",
        "OPEN_REFUND_STATES = frozenset({RefundState.REQUESTED, RefundState.PENDING})",
        "OPEN_REFUND_STATES = frozenset({RefundState.REQUESTED})",
        (DOMAIN,),
    ),
    Bug(
        "the backoff exponent removed",
        "qpay.domain.expiry",
        "base_s * 2 ** max(0, attempt - 1)",
        "base_s * 2 * max(0, attempt - 1)",
        (DOMAIN,),
    ),
    Bug(
        "an empty event id allowed (every such event a duplicate of the first)",
        "qpay.domain.events",
        "0 < len(value) <= limit",
        "0 <= len(value) <= limit",
        (DOMAIN,),
    ),
    Bug(
        "only the last webhook signing key counts",
        "qpay.domain.signature",
        "ok |= hmac.compare_digest(",
        "ok = hmac.compare_digest(",
        (DOMAIN,),
    ),
    Bug(
        "a refund error loses the field it names",
        "qpay.domain.refunds",
        'details=[{"field": "amount", "issue": f"at most {refundable}"}]',
        'details=[{"field": "body", "issue": f"at most {refundable}"}]',
        (DOMAIN,),
    ),
]

# One fresh interpreter imports pytest and the libraries once, then forks a child per case: the child
# installs the mutated module before anything imports it, runs the tests and exits with pytest's code.
RUNNER = """
import importlib, importlib.util, json, os, sys
sys.path[:0] = ["functions", "sandbox", "."]
import hypothesis, jwt, pytest  # shared by every child
jobs, out_dir = json.loads(sys.argv[1]), sys.argv[2]
codes = {}
for job in jobs:
    pid = os.fork()
    if pid == 0:
        log = os.open(os.path.join(out_dir, str(job["index"]) + ".log"), os.O_WRONLY | os.O_CREAT, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        if job["module"]:
            spec = importlib.util.find_spec(job["module"])
            source = open(spec.origin).read()
            if source.count(job["old"]) != 1:
                print("ANCHOR NOT FOUND", repr(job["old"]), flush=True)
                os._exit(99)
            module = importlib.util.module_from_spec(spec)
            sys.modules[job["module"]] = module
            exec(compile(source.replace(job["old"], job["new"]), spec.origin, "exec"), module.__dict__)
            parent, _, leaf = job["module"].rpartition(".")
            setattr(importlib.import_module(parent), leaf, module)
        args = ["-x", "-q", "-p", "no:cacheprovider", "--noconftest", *job["tests"]]
        code = pytest.main(args)
        sys.stdout.flush()
        os._exit(int(code))
    _, status = os.waitpid(pid, 0)
    codes[job["name"]] = os.waitstatus_to_exitcode(status)
print("CODES " + json.dumps(codes))
"""


@dataclass(frozen=True)
class Outcome:
    code: int
    output: str


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    out = tmp_path_factory.mktemp("guard")
    cases: list[tuple[str, Bug | None, tuple[str, ...]]] = [
        ("control", None, (STATES, DOMAIN, PINS)),
        *((b.name, b, b.tests) for b in BUGS),
    ]
    jobs = [
        {
            "index": i,
            "name": name,
            "module": bug.module if bug else "",
            "old": bug.old if bug else "",
            "new": bug.new if bug else "",
            "tests": list(tests),
        }
        for i, (name, bug, tests) in enumerate(cases)
    ]
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(jobs), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("CODES ")), None)
    assert line is not None, done.stdout[-3000:] + done.stderr[-3000:]
    codes = json.loads(line.removeprefix("CODES "))
    return {job["name"]: Outcome(codes[job["name"]], (out / f"{job['index']}.log").read_text()) for job in jobs}


def test_the_unmutated_code_passes_the_same_tests(outcomes: dict[str, Outcome]) -> None:
    control = outcomes["control"]
    assert control.code == 0, control.output[-3000:]


@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
def test_the_fast_tests_catch_the_bug(bug: Bug, outcomes: dict[str, Outcome]) -> None:
    got = outcomes[bug.name]
    assert got.code != 99, f"the guard is stale: {bug.old!r} is no longer in {bug.module}"
    assert got.code == 1, f"not caught (exit {got.code}):\n{got.output[-3000:]}"
