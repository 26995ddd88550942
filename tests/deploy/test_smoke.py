"""`make smoke` against the local stack (the same routes, IAM authorizer and simulator): it passes on a
healthy stack and fails, exit status 1, when the stack is wrong."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.tools import smoke
from qpay_local.stack import LocalStack


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None) as s:
        yield s


def test_smoke_passes_on_a_healthy_stack(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    assert smoke.main(["--url", stack.api_url, "--key", stack.keys.merchant_api_key]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == 4 and "FAIL" not in out
    assert "To finish by hand: open http" in out


def test_smoke_fails_with_a_wrong_key(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    assert smoke.main(["--url", stack.api_url, "--key", "not-a-merchant-key"]) == 1
    assert "FAIL  create: 401" in capsys.readouterr().out


def test_smoke_fails_when_nothing_answers(capsys: pytest.CaptureFixture[str]) -> None:
    assert smoke.main(["--url", "http://127.0.0.1:9", "--key", "k"]) == 1
    assert "FAIL  create: ConnectError" in capsys.readouterr().out


def test_an_origin_that_answers_strangers_fails_the_origin_check(stack: LocalStack) -> None:
    """This stack has no edge, so its origin answers without x-origin-verify: --origin-url must fail."""
    checks = smoke.run(stack.api_url, stack.keys.merchant_api_key, origin_url=stack.api_url)
    (origin,) = [c for c in checks if c.name == "origin refuses requests around the edge"]
    assert not origin.ok and origin.detail == "200"
    assert all(c.ok for c in checks if c is not origin)
