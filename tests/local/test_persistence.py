"""The local stack keeps what it made (review U9): payments, refunds and timers (the table's items) and
the simulator's payments survive a restart, so a stored ``qpp_…`` id still answers and an unpaid
payment can still be paid; ``--fresh`` starts clean. The national ID is kept nowhere."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from qpay_local.__main__ import saved_dir
from qpay_local.banner import TEST_NATIONAL_ID, example_create_body
from qpay_local.persistence import Persistence
from qpay_local.stack import LocalStack


def _stack(folder: Path) -> LocalStack:
    return LocalStack(api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None, persist_dir=folder)


def _create(stack: LocalStack, reference: str) -> str:
    r = httpx.post(
        f"{stack.api_url}/payments",
        json=example_create_body(reference),
        headers={"Authorization": f"Bearer {stack.keys.merchant_api_key}", "Idempotency-Key": reference},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _read(stack: LocalStack, payment_id: str) -> dict:
    r = httpx.get(
        f"{stack.api_url}/payments/{payment_id}",
        headers={"Authorization": f"Bearer {stack.keys.merchant_api_key}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.json()


def _wait(stack: LocalStack, payment_id: str, status: str) -> dict:
    deadline = time.monotonic() + 60  # a bound for a loaded machine, not a timing assertion
    while (doc := _read(stack, payment_id))["status"] != status:
        assert time.monotonic() < deadline, doc
        time.sleep(0.1)
    return doc


def test_payments_survive_a_restart_and_can_still_be_paid(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    with _stack(folder) as first:
        paid = _create(first, "ORD-KEEP-PAID")
        waiting = _create(first, "ORD-KEEP-WAIT")
        assert first.sim is not None
        assert first.sim.config.merchant_name == "Souq Demo"  # the shop's name on the QPay page (U6)
        first.sim.pay(_read(first, paid)["cko_payment_id"])
        _wait(first, paid, "Captured")
        first.drain()
    saved = (folder / "tables.json").read_text() + (folder / "simulator.pickle").read_bytes().decode("latin-1")
    assert paid in saved and TEST_NATIONAL_ID not in saved  # the national ID is kept nowhere
    assert oct((folder / "tables.json").stat().st_mode & 0o777) == "0o600"

    with _stack(folder) as second:  # new keys, new ports, new processes: the same payments
        assert second.persistence is not None and second.persistence.restored_items > 0
        assert second.persistence.restored_payments == 2
        assert (_read(second, paid)["status"], _read(second, paid)["amount"]) == ("Captured", 12500)
        pending = _read(second, waiting)
        assert pending["status"] == "Pending"
        assert second.sim is not None
        second.sim.pay(pending["cko_payment_id"])  # Checkout (the simulator) still knows it
        _wait(second, waiting, "Captured")
        second.drain()

    with _stack(folder) as third:
        assert _read(third, waiting)["status"] == "Captured"  # what the second run did is kept too


def test_fresh_forgets_the_saved_payments(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    with _stack(folder) as first:
        payment_id = _create(first, "ORD-KEEP-FRESH")
    assert saved_dir(tmp_path, fresh=False) == folder and (folder / "tables.json").exists()
    saved_dir(tmp_path, fresh=True)  # make run ARGS="--fresh"
    assert not (folder / "tables.json").exists() and not (folder / "simulator.pickle").exists()
    with _stack(folder) as second:
        r = httpx.get(
            f"{second.api_url}/payments/{payment_id}",
            headers={"Authorization": f"Bearer {second.keys.merchant_api_key}"},
            timeout=10,
        )
        assert r.status_code == 404


def test_an_unreadable_snapshot_is_skipped_not_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "tables.json").write_text("{not json")
    (folder / "simulator.pickle").write_bytes(b"not a pickle")
    keeper = Persistence(folder)
    assert keeper.restore_tables(object(), {"PaymentsTable": "t"}) == 0
    assert keeper.restore_sim(object()) == 0
