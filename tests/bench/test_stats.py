"""Reading ``-X importtime`` and pairing interleaved runs."""

from __future__ import annotations

from qpay_bench.stats import Stats, heaviest_imports, paired_ratios

IMPORTTIME = """import time: self [us] | cumulative | imported package
import time:       100 |        100 |     botocore.exceptions
import time:      2000 |       2100 |   botocore
import time:       500 |        500 |     json
import time:       300 |       2900 |   boto3
import time:      1000 |       1000 |   json.decoder
import time:       700 |       4600 | qpay.handlers.webhook
"""


def test_heaviest_imports_are_cumulative_per_package_and_own_code_is_self_time() -> None:
    got = {i.name: i.ms for i in heaviest_imports(IMPORTTIME, top=10)}
    assert got["boto3"] == 2.9  # includes the botocore it imported
    assert got["botocore"] == 2.1
    assert got["json"] == 1.5  # entered twice, from boto3 and from qpay
    assert got["qpay (own code)"] == 0.7


def test_paired_ratios_use_run_i_against_run_i() -> None:
    assert paired_ratios([2.0, 4.0, 6.0], [1.0, 4.0, 3.0]).median == 2.0
    assert Stats.of([1.0, 2.0, 3.0, 4.0, 5.0]).median == 3.0
