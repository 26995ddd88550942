"""One Powertools logger for the whole package; structured JSON with the correlation id.

Never log a request body: the create request carries the shopper's national ID.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="qpay")
