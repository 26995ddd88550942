from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...models.refund_request import RefundRequest
from ...models.refund_response import RefundResponse
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    id: str,
    *,
    body: RefundRequest | Unset = UNSET,
    idempotency_key: str,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["Idempotency-Key"] = idempotency_key



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/payments/{id}/refunds".format(id=quote(str(id), safe=""),),
    }

    
    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorBody | GatewayError | RefundResponse | None:
    if response.status_code == 202:
        response_202 = RefundResponse.from_dict(response.json())



        return response_202

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())



        return response_400

    if response.status_code == 403:
        response_403 = GatewayError.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())



        return response_404

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ErrorBody | GatewayError | RefundResponse]:
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
    body: RefundRequest | Unset = UNSET,
    idempotency_key: str,

) -> Response[ErrorBody | GatewayError | RefundResponse]:
    """ Refund a captured payment, fully or in part (merchant only: IAM SigV4)

     Reserves the amount and starts the refund workflow; poll `GET /payments/{id}` (its `refunds[]`) or
    consume the `Refund Succeeded` / `Refund Declined` order events for the outcome. An empty body
    refunds the rest of the refundable balance.

    Args:
        id (str):
        idempotency_key (str):
        body (RefundRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | RefundResponse]
     """


    kwargs = _get_kwargs(
        id=id,
body=body,
idempotency_key=idempotency_key,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    body: RefundRequest | Unset = UNSET,
    idempotency_key: str,

) -> ErrorBody | GatewayError | RefundResponse | None:
    """ Refund a captured payment, fully or in part (merchant only: IAM SigV4)

     Reserves the amount and starts the refund workflow; poll `GET /payments/{id}` (its `refunds[]`) or
    consume the `Refund Succeeded` / `Refund Declined` order events for the outcome. An empty body
    refunds the rest of the refundable balance.

    Args:
        id (str):
        idempotency_key (str):
        body (RefundRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | RefundResponse
     """


    return sync_detailed(
        id=id,
client=client,
body=body,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: RefundRequest | Unset = UNSET,
    idempotency_key: str,

) -> Response[ErrorBody | GatewayError | RefundResponse]:
    """ Refund a captured payment, fully or in part (merchant only: IAM SigV4)

     Reserves the amount and starts the refund workflow; poll `GET /payments/{id}` (its `refunds[]`) or
    consume the `Refund Succeeded` / `Refund Declined` order events for the outcome. An empty body
    refunds the rest of the refundable balance.

    Args:
        id (str):
        idempotency_key (str):
        body (RefundRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | RefundResponse]
     """


    kwargs = _get_kwargs(
        id=id,
body=body,
idempotency_key=idempotency_key,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    body: RefundRequest | Unset = UNSET,
    idempotency_key: str,

) -> ErrorBody | GatewayError | RefundResponse | None:
    """ Refund a captured payment, fully or in part (merchant only: IAM SigV4)

     Reserves the amount and starts the refund workflow; poll `GET /payments/{id}` (its `refunds[]`) or
    consume the `Refund Succeeded` / `Refund Declined` order events for the outcome. An empty body
    refunds the rest of the refundable balance.

    Args:
        id (str):
        idempotency_key (str):
        body (RefundRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | RefundResponse
     """


    return (await asyncio_detailed(
        id=id,
client=client,
body=body,
idempotency_key=idempotency_key,

    )).parsed
