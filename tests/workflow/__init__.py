"""The refund state machine's failure paths (see conftest.py)."""

import pytest

# the checks live in scenarios.py (shared with the meta-tests): show their values when they fail
pytest.register_assert_rewrite("tests.workflow.scenarios")
