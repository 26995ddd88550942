from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...models.payment_view import PaymentView
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    id: str,
    *,
    x_client_secret: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_client_secret, Unset):
        headers["X-Client-Secret"] = x_client_secret



    

    

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/payments/{id}".format(id=quote(str(id), safe=""),),
    }


    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorBody | GatewayError | PaymentView | None:
    if response.status_code == 200:
        response_200 = PaymentView.from_dict(response.json())



        return response_200

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())



        return response_401

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())



        return response_404

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ErrorBody | GatewayError | PaymentView]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    x_client_secret: str | Unset = UNSET,

) -> Response[ErrorBody | GatewayError | PaymentView]:
    """ Get a payment's status and refunds

     With the merchant key (your server; adds `cko_payment_id`, `attention`, refund `reference`) or the
    payment's `X-Client-Secret` (the shopper's browser). A client secret that is not this payment's
    answers 404, as an unknown id does.

    Args:
        id (str):
        x_client_secret (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | PaymentView]
     """


    kwargs = _get_kwargs(
        id=id,
x_client_secret=x_client_secret,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    x_client_secret: str | Unset = UNSET,

) -> ErrorBody | GatewayError | PaymentView | None:
    """ Get a payment's status and refunds

     With the merchant key (your server; adds `cko_payment_id`, `attention`, refund `reference`) or the
    payment's `X-Client-Secret` (the shopper's browser). A client secret that is not this payment's
    answers 404, as an unknown id does.

    Args:
        id (str):
        x_client_secret (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | PaymentView
     """


    return sync_detailed(
        id=id,
client=client,
x_client_secret=x_client_secret,

    ).parsed

async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    x_client_secret: str | Unset = UNSET,

) -> Response[ErrorBody | GatewayError | PaymentView]:
    """ Get a payment's status and refunds

     With the merchant key (your server; adds `cko_payment_id`, `attention`, refund `reference`) or the
    payment's `X-Client-Secret` (the shopper's browser). A client secret that is not this payment's
    answers 404, as an unknown id does.

    Args:
        id (str):
        x_client_secret (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | PaymentView]
     """


    kwargs = _get_kwargs(
        id=id,
x_client_secret=x_client_secret,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    x_client_secret: str | Unset = UNSET,

) -> ErrorBody | GatewayError | PaymentView | None:
    """ Get a payment's status and refunds

     With the merchant key (your server; adds `cko_payment_id`, `attention`, refund `reference`) or the
    payment's `X-Client-Secret` (the shopper's browser). A client secret that is not this payment's
    answers 404, as an unknown id does.

    Args:
        id (str):
        x_client_secret (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | PaymentView
     """


    return (await asyncio_detailed(
        id=id,
client=client,
x_client_secret=x_client_secret,

    )).parsed
