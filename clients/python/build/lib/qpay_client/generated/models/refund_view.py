from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.refund_view_status import RefundViewStatus
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="RefundView")



@_attrs_define
class RefundView:
    """ 
        Attributes:
            amount (int):
            created_at (str):
            id (str):
            status (RefundViewStatus):
            updated_at (str):
            reference (None | str | Unset):
     """

    amount: int
    created_at: str
    id: str
    status: RefundViewStatus
    updated_at: str
    reference: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        created_at = self.created_at

        id = self.id

        status = self.status.value

        updated_at = self.updated_at

        reference: None | str | Unset
        if isinstance(self.reference, Unset):
            reference = UNSET
        else:
            reference = self.reference


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "amount": amount,
            "created_at": created_at,
            "id": id,
            "status": status,
            "updated_at": updated_at,
        })
        if reference is not UNSET:
            field_dict["reference"] = reference

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        created_at = d.pop("created_at")

        id = d.pop("id")

        status = RefundViewStatus(d.pop("status"))




        updated_at = d.pop("updated_at")

        def _parse_reference(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reference = _parse_reference(d.pop("reference", UNSET))


        refund_view = cls(
            amount=amount,
            created_at=created_at,
            id=id,
            status=status,
            updated_at=updated_at,
            reference=reference,
        )


        refund_view.additional_properties = d
        return refund_view

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
