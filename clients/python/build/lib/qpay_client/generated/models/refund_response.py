from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.refund_response_status import RefundResponseStatus






T = TypeVar("T", bound="RefundResponse")



@_attrs_define
class RefundResponse:
    """ 
        Attributes:
            amount (int):
            id (str):
            payment_id (str):
            status (RefundResponseStatus):
     """

    amount: int
    id: str
    payment_id: str
    status: RefundResponseStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        id = self.id

        payment_id = self.payment_id

        status = self.status.value


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "amount": amount,
            "id": id,
            "payment_id": payment_id,
            "status": status,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        id = d.pop("id")

        payment_id = d.pop("payment_id")

        status = RefundResponseStatus(d.pop("status"))




        refund_response = cls(
            amount=amount,
            id=id,
            payment_id=payment_id,
            status=status,
        )


        refund_response.additional_properties = d
        return refund_response

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
