from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.payment_view_status import PaymentViewStatus
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.decline import Decline
  from ..models.refund_view import RefundView





T = TypeVar("T", bound="PaymentView")



@_attrs_define
class PaymentView:
    """ 
        Attributes:
            amount (int):
            created_at (str):
            currency (str):
            expires_at (str):
            id (str):
            reference (str):
            status (PaymentViewStatus):
            updated_at (str):
            attention (bool | None | Unset): Flagged for a human (merchant reads only)
            attention_reason (None | str | Unset): Why it is flagged (merchant reads only)
            awaiting_confirmation (bool | Unset): Past its deadline and still open: Checkout.com has not decided yet
                Default: False.
            cko_payment_id (None | str | Unset): Checkout.com's pay_… id (merchant reads only)
            decline (Decline | None | Unset): Declined: why, as Checkout.com's notification said it (merchant reads only;
                absent when Checkout gave no reason)
            redirect_url (None | str | Unset):
            refunded_amount (int | Unset):  Default: 0.
            refunds (list[RefundView] | Unset):
     """

    amount: int
    created_at: str
    currency: str
    expires_at: str
    id: str
    reference: str
    status: PaymentViewStatus
    updated_at: str
    attention: bool | None | Unset = UNSET
    attention_reason: None | str | Unset = UNSET
    awaiting_confirmation: bool | Unset = False
    cko_payment_id: None | str | Unset = UNSET
    decline: Decline | None | Unset = UNSET
    redirect_url: None | str | Unset = UNSET
    refunded_amount: int | Unset = 0
    refunds: list[RefundView] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.decline import Decline # noqa: PLC0415
        from ..models.refund_view import RefundView # noqa: PLC0415
        amount = self.amount

        created_at = self.created_at

        currency = self.currency

        expires_at = self.expires_at

        id = self.id

        reference = self.reference

        status = self.status.value

        updated_at = self.updated_at

        attention: bool | None | Unset
        if isinstance(self.attention, Unset):
            attention = UNSET
        else:
            attention = self.attention

        attention_reason: None | str | Unset
        if isinstance(self.attention_reason, Unset):
            attention_reason = UNSET
        else:
            attention_reason = self.attention_reason

        awaiting_confirmation = self.awaiting_confirmation

        cko_payment_id: None | str | Unset
        if isinstance(self.cko_payment_id, Unset):
            cko_payment_id = UNSET
        else:
            cko_payment_id = self.cko_payment_id

        decline: dict[str, Any] | None | Unset
        if isinstance(self.decline, Unset):
            decline = UNSET
        elif isinstance(self.decline, Decline):
            decline = self.decline.to_dict()
        else:
            decline = self.decline

        redirect_url: None | str | Unset
        if isinstance(self.redirect_url, Unset):
            redirect_url = UNSET
        else:
            redirect_url = self.redirect_url

        refunded_amount = self.refunded_amount

        refunds: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.refunds, Unset):
            refunds = []
            for refunds_item_data in self.refunds:
                refunds_item = refunds_item_data.to_dict()
                refunds.append(refunds_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "amount": amount,
            "created_at": created_at,
            "currency": currency,
            "expires_at": expires_at,
            "id": id,
            "reference": reference,
            "status": status,
            "updated_at": updated_at,
        })
        if attention is not UNSET:
            field_dict["attention"] = attention
        if attention_reason is not UNSET:
            field_dict["attention_reason"] = attention_reason
        if awaiting_confirmation is not UNSET:
            field_dict["awaiting_confirmation"] = awaiting_confirmation
        if cko_payment_id is not UNSET:
            field_dict["cko_payment_id"] = cko_payment_id
        if decline is not UNSET:
            field_dict["decline"] = decline
        if redirect_url is not UNSET:
            field_dict["redirect_url"] = redirect_url
        if refunded_amount is not UNSET:
            field_dict["refunded_amount"] = refunded_amount
        if refunds is not UNSET:
            field_dict["refunds"] = refunds

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.decline import Decline # noqa: PLC0415
        from ..models.refund_view import RefundView # noqa: PLC0415
        d = dict(src_dict)
        amount = d.pop("amount")

        created_at = d.pop("created_at")

        currency = d.pop("currency")

        expires_at = d.pop("expires_at")

        id = d.pop("id")

        reference = d.pop("reference")

        status = PaymentViewStatus(d.pop("status"))




        updated_at = d.pop("updated_at")

        def _parse_attention(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        attention = _parse_attention(d.pop("attention", UNSET))


        def _parse_attention_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        attention_reason = _parse_attention_reason(d.pop("attention_reason", UNSET))


        awaiting_confirmation = d.pop("awaiting_confirmation", UNSET)

        def _parse_cko_payment_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cko_payment_id = _parse_cko_payment_id(d.pop("cko_payment_id", UNSET))


        def _parse_decline(data: object) -> Decline | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                decline_type_0 = Decline.from_dict(data)



                return decline_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Decline | None | Unset, data)

        decline = _parse_decline(d.pop("decline", UNSET))


        def _parse_redirect_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        redirect_url = _parse_redirect_url(d.pop("redirect_url", UNSET))


        refunded_amount = d.pop("refunded_amount", UNSET)

        _refunds = d.pop("refunds", UNSET)
        refunds: list[RefundView] | Unset = UNSET
        if _refunds is not UNSET:
            refunds = []
            for refunds_item_data in _refunds:
                refunds_item = RefundView.from_dict(refunds_item_data)



                refunds.append(refunds_item)


        payment_view = cls(
            amount=amount,
            created_at=created_at,
            currency=currency,
            expires_at=expires_at,
            id=id,
            reference=reference,
            status=status,
            updated_at=updated_at,
            attention=attention,
            attention_reason=attention_reason,
            awaiting_confirmation=awaiting_confirmation,
            cko_payment_id=cko_payment_id,
            decline=decline,
            redirect_url=redirect_url,
            refunded_amount=refunded_amount,
            refunds=refunds,
        )


        payment_view.additional_properties = d
        return payment_view

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
