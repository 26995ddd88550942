from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.create_payment_request import CreatePaymentRequest
from ...models.create_payment_response import CreatePaymentResponse
from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    body: CreatePaymentRequest,
    idempotency_key: str | Unset = UNSET,
    x_order_token: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    if not isinstance(x_order_token, Unset):
        headers["X-Order-Token"] = x_order_token



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/payments",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> CreatePaymentResponse | ErrorBody | GatewayError | None:
    if response.status_code == 200:
        response_200 = CreatePaymentResponse.from_dict(response.json())



        return response_200

    if response.status_code == 201:
        response_201 = CreatePaymentResponse.from_dict(response.json())



        return response_201

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = ErrorBody.from_dict(response.json())



        return response_403

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

    if response.status_code == 502:
        response_502 = ErrorBody.from_dict(response.json())



        return response_502

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[CreatePaymentResponse | ErrorBody | GatewayError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: CreatePaymentRequest,
    idempotency_key: str | Unset = UNSET,
    x_order_token: str | Unset = UNSET,

) -> Response[CreatePaymentResponse | ErrorBody | GatewayError]:
    """ Create a QPay payment

     From your server with the merchant key, or from the shopper's browser with an order token (the
    body's `reference`, `amount` and `currency` must equal the token's claims). Answers with
    `redirect_url` (send the shopper there) and `client_secret` (hand it to the shopper's browser).
    `national_id` goes to Checkout.com only: it is never stored, logged or returned.

    Args:
        idempotency_key (str | Unset):
        x_order_token (str | Unset):
        body (CreatePaymentRequest): What the storefront sends. The shopper can never set the
            amount: see order tokens.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreatePaymentResponse | ErrorBody | GatewayError]
     """


    kwargs = _get_kwargs(
        body=body,
idempotency_key=idempotency_key,
x_order_token=x_order_token,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body: CreatePaymentRequest,
    idempotency_key: str | Unset = UNSET,
    x_order_token: str | Unset = UNSET,

) -> CreatePaymentResponse | ErrorBody | GatewayError | None:
    """ Create a QPay payment

     From your server with the merchant key, or from the shopper's browser with an order token (the
    body's `reference`, `amount` and `currency` must equal the token's claims). Answers with
    `redirect_url` (send the shopper there) and `client_secret` (hand it to the shopper's browser).
    `national_id` goes to Checkout.com only: it is never stored, logged or returned.

    Args:
        idempotency_key (str | Unset):
        x_order_token (str | Unset):
        body (CreatePaymentRequest): What the storefront sends. The shopper can never set the
            amount: see order tokens.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreatePaymentResponse | ErrorBody | GatewayError
     """


    return sync_detailed(
        client=client,
body=body,
idempotency_key=idempotency_key,
x_order_token=x_order_token,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: CreatePaymentRequest,
    idempotency_key: str | Unset = UNSET,
    x_order_token: str | Unset = UNSET,

) -> Response[CreatePaymentResponse | ErrorBody | GatewayError]:
    """ Create a QPay payment

     From your server with the merchant key, or from the shopper's browser with an order token (the
    body's `reference`, `amount` and `currency` must equal the token's claims). Answers with
    `redirect_url` (send the shopper there) and `client_secret` (hand it to the shopper's browser).
    `national_id` goes to Checkout.com only: it is never stored, logged or returned.

    Args:
        idempotency_key (str | Unset):
        x_order_token (str | Unset):
        body (CreatePaymentRequest): What the storefront sends. The shopper can never set the
            amount: see order tokens.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreatePaymentResponse | ErrorBody | GatewayError]
     """


    kwargs = _get_kwargs(
        body=body,
idempotency_key=idempotency_key,
x_order_token=x_order_token,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body: CreatePaymentRequest,
    idempotency_key: str | Unset = UNSET,
    x_order_token: str | Unset = UNSET,

) -> CreatePaymentResponse | ErrorBody | GatewayError | None:
    """ Create a QPay payment

     From your server with the merchant key, or from the shopper's browser with an order token (the
    body's `reference`, `amount` and `currency` must equal the token's claims). Answers with
    `redirect_url` (send the shopper there) and `client_secret` (hand it to the shopper's browser).
    `national_id` goes to Checkout.com only: it is never stored, logged or returned.

    Args:
        idempotency_key (str | Unset):
        x_order_token (str | Unset):
        body (CreatePaymentRequest): What the storefront sends. The shopper can never set the
            amount: see order tokens.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreatePaymentResponse | ErrorBody | GatewayError
     """


    return (await asyncio_detailed(
        client=client,
body=body,
idempotency_key=idempotency_key,
x_order_token=x_order_token,

    )).parsed
