from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.gateway_error import GatewayError
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    payment_id: str | Unset = UNSET,
    cko_session_id: str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["payment_id"] = payment_id

    params["cko-session-id"] = cko_session_id


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/payments/return/failure",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | GatewayError | None:
    if response.status_code == 303:
        response_303 = cast(Any, None)
        return response_303

    if response.status_code == 429:
        response_429 = GatewayError.from_dict(response.json())



        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | GatewayError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    payment_id: str | Unset = UNSET,
    cko_session_id: str | Unset = UNSET,

) -> Response[Any | GatewayError]:
    """ The shopper comes back from QPay (failure URL given to Checkout.com)

     Never called by you: Checkout.com sends the shopper here. The outcome in the URL is never trusted:
    the function asks Checkout.com, records the answer and redirects to your configured storefront page
    with `?reference=…&payment_id=…` (`StorefrontSuccessUrl`, or `StorefrontFailureUrl` for
    declined/cancelled/expired and `?error=unknown_payment`). When the status could not be confirmed the
    shopper lands on the success page with `?payment_id=…&check=1`: poll `GET /payments/{id}`.

    Args:
        payment_id (str | Unset):
        cko_session_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | GatewayError]
     """


    kwargs = _get_kwargs(
        payment_id=payment_id,
cko_session_id=cko_session_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient | Client,
    payment_id: str | Unset = UNSET,
    cko_session_id: str | Unset = UNSET,

) -> Any | GatewayError | None:
    """ The shopper comes back from QPay (failure URL given to Checkout.com)

     Never called by you: Checkout.com sends the shopper here. The outcome in the URL is never trusted:
    the function asks Checkout.com, records the answer and redirects to your configured storefront page
    with `?reference=…&payment_id=…` (`StorefrontSuccessUrl`, or `StorefrontFailureUrl` for
    declined/cancelled/expired and `?error=unknown_payment`). When the status could not be confirmed the
    shopper lands on the success page with `?payment_id=…&check=1`: poll `GET /payments/{id}`.

    Args:
        payment_id (str | Unset):
        cko_session_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | GatewayError
     """


    return sync_detailed(
        client=client,
payment_id=payment_id,
cko_session_id=cko_session_id,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    payment_id: str | Unset = UNSET,
    cko_session_id: str | Unset = UNSET,

) -> Response[Any | GatewayError]:
    """ The shopper comes back from QPay (failure URL given to Checkout.com)

     Never called by you: Checkout.com sends the shopper here. The outcome in the URL is never trusted:
    the function asks Checkout.com, records the answer and redirects to your configured storefront page
    with `?reference=…&payment_id=…` (`StorefrontSuccessUrl`, or `StorefrontFailureUrl` for
    declined/cancelled/expired and `?error=unknown_payment`). When the status could not be confirmed the
    shopper lands on the success page with `?payment_id=…&check=1`: poll `GET /payments/{id}`.

    Args:
        payment_id (str | Unset):
        cko_session_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | GatewayError]
     """


    kwargs = _get_kwargs(
        payment_id=payment_id,
cko_session_id=cko_session_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    payment_id: str | Unset = UNSET,
    cko_session_id: str | Unset = UNSET,

) -> Any | GatewayError | None:
    """ The shopper comes back from QPay (failure URL given to Checkout.com)

     Never called by you: Checkout.com sends the shopper here. The outcome in the URL is never trusted:
    the function asks Checkout.com, records the answer and redirects to your configured storefront page
    with `?reference=…&payment_id=…` (`StorefrontSuccessUrl`, or `StorefrontFailureUrl` for
    declined/cancelled/expired and `?error=unknown_payment`). When the status could not be confirmed the
    shopper lands on the success page with `?payment_id=…&check=1`: poll `GET /payments/{id}`.

    Args:
        payment_id (str | Unset):
        cko_session_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | GatewayError
     """


    return (await asyncio_detailed(
        client=client,
payment_id=payment_id,
cko_session_id=cko_session_id,

    )).parsed
