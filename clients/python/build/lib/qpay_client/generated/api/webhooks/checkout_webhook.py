from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.checkout_webhook_body import CheckoutWebhookBody
from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...models.webhook_ack import WebhookAck
from typing import cast



def _get_kwargs(
    *,
    body: CheckoutWebhookBody,
    cko_signature: str,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["Cko-Signature"] = cko_signature



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/webhooks/checkout",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorBody | GatewayError | WebhookAck | None:
    if response.status_code == 200:
        response_200 = WebhookAck.from_dict(response.json())



        return response_200

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())



        return response_401

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())



        return response_409

    if response.status_code == 413:
        response_413 = ErrorBody.from_dict(response.json())



        return response_413

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())



        return response_422

    if response.status_code == 429:
        response_429 = GatewayError.from_dict(response.json())



        return response_429

    if response.status_code == 500:
        response_500 = ErrorBody.from_dict(response.json())



        return response_500

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ErrorBody | GatewayError | WebhookAck]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: CheckoutWebhookBody,
    cko_signature: str,

) -> Response[ErrorBody | GatewayError | WebhookAck]:
    """ Checkout.com's notifications (register this URL in Checkout.com's Dashboard)

     `Cko-Signature` (HMAC-SHA256 of the raw body with a key of `webhook_signing_keys`) is verified
    before anything is read; when the secret sets `webhook_authorization`, the `Authorization` header
    must equal it too. Any non-2xx makes Checkout.com retry.

    Args:
        cko_signature (str):
        body (CheckoutWebhookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | WebhookAck]
     """


    kwargs = _get_kwargs(
        body=body,
cko_signature=cko_signature,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient | Client,
    body: CheckoutWebhookBody,
    cko_signature: str,

) -> ErrorBody | GatewayError | WebhookAck | None:
    """ Checkout.com's notifications (register this URL in Checkout.com's Dashboard)

     `Cko-Signature` (HMAC-SHA256 of the raw body with a key of `webhook_signing_keys`) is verified
    before anything is read; when the secret sets `webhook_authorization`, the `Authorization` header
    must equal it too. Any non-2xx makes Checkout.com retry.

    Args:
        cko_signature (str):
        body (CheckoutWebhookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | WebhookAck
     """


    return sync_detailed(
        client=client,
body=body,
cko_signature=cko_signature,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: CheckoutWebhookBody,
    cko_signature: str,

) -> Response[ErrorBody | GatewayError | WebhookAck]:
    """ Checkout.com's notifications (register this URL in Checkout.com's Dashboard)

     `Cko-Signature` (HMAC-SHA256 of the raw body with a key of `webhook_signing_keys`) is verified
    before anything is read; when the secret sets `webhook_authorization`, the `Authorization` header
    must equal it too. Any non-2xx makes Checkout.com retry.

    Args:
        cko_signature (str):
        body (CheckoutWebhookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | WebhookAck]
     """


    kwargs = _get_kwargs(
        body=body,
cko_signature=cko_signature,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: CheckoutWebhookBody,
    cko_signature: str,

) -> ErrorBody | GatewayError | WebhookAck | None:
    """ Checkout.com's notifications (register this URL in Checkout.com's Dashboard)

     `Cko-Signature` (HMAC-SHA256 of the raw body with a key of `webhook_signing_keys`) is verified
    before anything is read; when the secret sets `webhook_authorization`, the `Authorization` header
    must equal it too. Any non-2xx makes Checkout.com retry.

    Args:
        cko_signature (str):
        body (CheckoutWebhookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | WebhookAck
     """


    return (await asyncio_detailed(
        client=client,
body=body,
cko_signature=cko_signature,

    )).parsed
