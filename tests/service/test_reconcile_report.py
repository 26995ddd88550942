"""The reconciliation report: what the scheduled run writes to its report item and log line (read by
people and by the runbook's queries), counted per finding kind and whether it was fixed."""

from __future__ import annotations

from qpay.service.reconcile import MAX_FINDINGS_IN_REPORT, Finding, Report


def test_the_report_counts_each_kind_fixed_and_open() -> None:
    report = Report(day="2026-11-28", since=1_000, checked=7, truncated=True, asked={"open": 4, "skipped": 3})
    report.findings = [
        Finding("qpp_a", "status", True, "Pending -> Captured"),
        Finding("qpp_b", "status", True, "Pending -> Expired"),
        Finding("qpp_c", "status", False, "dry run"),
        Finding("qpp_d", "error", False, "Checkout.com: 503"),
    ]
    assert report.counts() == {"status_fixed": 2, "status_open": 1, "error_open": 1}
    assert (report.fixed, report.unfixed, report.errors) == (2, 2, 1)
    assert report.as_dict() == {
        "day": "2026-11-28",
        "since": 1_000,
        "checked": 7,
        "truncated": True,
        "drift": 4,
        "fixed": 2,
        "unfixed": 2,
        "errors": 1,
        "counts": {"status_fixed": 2, "status_open": 1, "error_open": 1},
        "asked": {"open": 4, "skipped": 3},
        "findings": [
            {"payment_id": "qpp_a", "kind": "status", "fixed": True, "detail": "Pending -> Captured"},
            {"payment_id": "qpp_b", "kind": "status", "fixed": True, "detail": "Pending -> Expired"},
            {"payment_id": "qpp_c", "kind": "status", "fixed": False, "detail": "dry run"},
            {"payment_id": "qpp_d", "kind": "error", "fixed": False, "detail": "Checkout.com: 503"},
        ],
    }


def test_the_report_lists_at_most_200_findings_and_counts_them_all() -> None:
    report = Report(day="2026-11-28", since=0)
    report.findings = [Finding(f"qpp_{i}", "refund_open", False, "x") for i in range(MAX_FINDINGS_IN_REPORT + 1)]
    doc = report.as_dict()
    assert len(doc["findings"]) == MAX_FINDINGS_IN_REPORT == 200
    assert doc["drift"] == 201 and doc["counts"] == {"refund_open_open": 201}
    assert Report(day="d", since=0).as_dict()["counts"] == {}
