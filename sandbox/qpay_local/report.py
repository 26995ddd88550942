"""What the stack reports about itself: ``env.local`` for a storefront, ``stack.json`` for ``make trigger``,
the timers in effect and the banner's table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qpay_local import timing

if TYPE_CHECKING:
    from qpay_local.stack import LocalStack


def storefront_env(stack: LocalStack) -> dict[str, str]:
    """``env.local``: what a Node/PHP storefront needs to call this stack (dotenv keys). The names are the
    ones the README's snippets and the clients' ``configFromEnv`` read; the AWS ones are prefixed
    ``QPAY_AWS_`` so a storefront loading this file with dotenv keeps its own AWS SDK calls (S3, SES, ...)
    on its own credentials and endpoints instead of sending them to the local stack (review U12)."""
    k = stack.local_keys
    c = stack.local_credentials
    return {
        "QPAY_API_URL": stack.api_url,
        "QPAY_MERCHANT_API_KEY": k.merchant_api_key,
        "QPAY_ORDER_TOKEN_KID": k.order_token_kid,
        "QPAY_ORDER_TOKEN_KEY": k.order_token_key,
        "QPAY_WEBHOOK_SIGNING_KEY": k.webhook_signing_key,
        "QPAY_EVENT_FORWARDING_SECRET": k.forwarding_secret,
        "QPAY_CHECKOUT_SIMULATOR_URL": stack.sim_url,
        "QPAY_CHECKOUT_SECRET_KEY": k.checkout_secret_key,
        "QPAY_REFUND_SIGV4_SERVICE": "execute-api",
        "QPAY_AWS_REGION": c.region,
        "QPAY_AWS_ACCESS_KEY_ID": c.access_key_id,
        "QPAY_AWS_SECRET_ACCESS_KEY": c.secret_access_key,
        "QPAY_AWS_ENDPOINT_URL": stack.aws_endpoint,
    }


def runtime_info(stack: LocalStack) -> dict[str, Any]:
    """``stack.json``: where this stack listens, for ``make trigger`` (no secrets)."""
    return {
        "api_url": stack.api_url,
        "sim_url": stack.sim_url,
        "aws_endpoint": stack.aws_endpoint,
        "dynamodb_endpoint": stack.dynamodb_endpoint,
        "table_name": stack.table_name,
        "region": stack.region,
    }


def time_settings(stack: LocalStack) -> dict[str, str]:
    """The timers in effect (after ``--time-scale``), for the banner."""
    env = stack.env
    out: dict[str, str] = {}
    labels = {
        "EXPIRY_WINDOW_S": "Expiry window",
        "EXPIRY_REARM_BASE_S": "Expiry re-arm base",
        "EXPIRY_REARM_CAP_S": "Expiry re-arm cap",
        "EXPIRY_MAX_AGE_S": "Maximum age (then flagged)",
        "CREATE_LEASE_S": "Create lease",
        "REFUND_SWEEP_AFTER_S": "Open refund restarted after",
        "RECONCILE_OPEN_REFUND_GRACE_S": "Reconcile leaves open refunds for",
    }
    for name, label in labels.items():
        value = env.get(name) or str(timing.PRODUCT_TIMERS[name])
        out[f"{label} ({name})"] = f"{value} s"
    if stack.sim is not None:
        expiry = stack.sim.config.payment_expiry_seconds
        out["Checkout expires an unpaid payment after"] = f"{expiry:g} s" if expiry else "never"
    if stack.scheduler is not None:
        for name, period in stack.scheduler.periods().items():
            out[f"Schedule {name}"] = f"every {period:g} s"
    subs = stack.effective_sfn_substitutions
    if subs:
        waits = ", ".join(f"{k}={v}" for k, v in subs.items() if str(k).endswith("Seconds"))
        out["Refund workflow waits"] = waits
    return out


def describe(stack: LocalStack) -> dict[str, str]:
    c = stack.local_credentials
    k = stack.local_keys
    out = {
        "API": stack.api_url,
        "Checkout.com simulator": stack.sim_url,
        "AWS endpoint (moto)": stack.aws_endpoint,
        "DynamoDB endpoint": stack.dynamodb_endpoint,
        "Table": stack.table_name,
        "Webhook URL": stack.api_url + stack.webhook_path,
        "Webhook signing key": k.webhook_signing_key,
        "Merchant API key": k.merchant_api_key,
        "Order token key": k.order_token_key,
        "Checkout secret key": k.checkout_secret_key,
        "AWS_ACCESS_KEY_ID": c.access_key_id,
        "AWS_SECRET_ACCESS_KEY": c.secret_access_key,
        "AWS_DEFAULT_REGION": c.region,
        "SigV4 service": "execute-api",
    }
    for logical_id, arn in stack.state_machine_arns.items():
        out[f"State machine {logical_id}"] = arn
    for logical_id, url in stack.queue_urls.items():
        out[f"Queue {logical_id}"] = url
    for logical_id, name in stack.event_bus_names.items():
        out[f"Event bus {logical_id}"] = f"{name} (events shown at {stack.api_url}/_local/events)"
    return out
