from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="Decline")



@_attrs_define
class Decline:
    """ 
        Attributes:
            response_code (str): Checkout.com's response code, e.g. 20006
            response_summary (None | str | Unset): Checkout.com's words for it
     """

    response_code: str
    response_summary: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        response_code = self.response_code

        response_summary: None | str | Unset
        if isinstance(self.response_summary, Unset):
            response_summary = UNSET
        else:
            response_summary = self.response_summary


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "response_code": response_code,
        })
        if response_summary is not UNSET:
            field_dict["response_summary"] = response_summary

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        response_code = d.pop("response_code")

        def _parse_response_summary(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        response_summary = _parse_response_summary(d.pop("response_summary", UNSET))


        decline = cls(
            response_code=response_code,
            response_summary=response_summary,
        )


        decline.additional_properties = d
        return decline

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
