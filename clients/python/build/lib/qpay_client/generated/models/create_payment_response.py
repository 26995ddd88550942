from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.create_payment_response_status import CreatePaymentResponseStatus






T = TypeVar("T", bound="CreatePaymentResponse")



@_attrs_define
class CreatePaymentResponse:
    """ 
        Attributes:
            amount (int):
            client_secret (str): Hand it to the shopper's browser: it reads this payment (header X-Client-Secret), nothing
                else
            currency (str):
            expires_at (str):
            id (str):
            redirect_url (str):
            reference (str):
            status (CreatePaymentResponseStatus):
     """

    amount: int
    client_secret: str
    currency: str
    expires_at: str
    id: str
    redirect_url: str
    reference: str
    status: CreatePaymentResponseStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        client_secret = self.client_secret

        currency = self.currency

        expires_at = self.expires_at

        id = self.id

        redirect_url = self.redirect_url

        reference = self.reference

        status = self.status.value


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "amount": amount,
            "client_secret": client_secret,
            "currency": currency,
            "expires_at": expires_at,
            "id": id,
            "redirect_url": redirect_url,
            "reference": reference,
            "status": status,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        client_secret = d.pop("client_secret")

        currency = d.pop("currency")

        expires_at = d.pop("expires_at")

        id = d.pop("id")

        redirect_url = d.pop("redirect_url")

        reference = d.pop("reference")

        status = CreatePaymentResponseStatus(d.pop("status"))




        create_payment_response = cls(
            amount=amount,
            client_secret=client_secret,
            currency=currency,
            expires_at=expires_at,
            id=id,
            redirect_url=redirect_url,
            reference=reference,
            status=status,
        )


        create_payment_response.additional_properties = d
        return create_payment_response

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
