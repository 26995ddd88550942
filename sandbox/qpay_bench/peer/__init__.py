"""The peer: the webhook and create handlers written the way a typical team writes them with the same
libraries (Powertools HTTP resolver, Logger, Tracer, Idempotency on DynamoDB, parameters; a boto3
DynamoDB resource; pydantic models; httpx for Checkout.com). Functionally equivalent to ours on the
measured paths: verify the signature, parse, one conditional state write; validate, authenticate,
idempotency, call Checkout.com, store. Measured by ``make bench`` next to the product; never deployed.

Relative imports only: the bench packages this folder as the top-level package ``peer``.
"""
