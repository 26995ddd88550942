from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.create_payment_request_language import CreatePaymentRequestLanguage
from ..types import UNSET, Unset
from typing import cast
from typing import Literal, cast

if TYPE_CHECKING:
  from ..models.create_payment_request_metadata import CreatePaymentRequestMetadata
  from ..models.customer import Customer





T = TypeVar("T", bound="CreatePaymentRequest")



@_attrs_define
class CreatePaymentRequest:
    """ What the storefront sends. The shopper can never set the amount: see order tokens.

        Attributes:
            amount (int): Minor units (dirhams)
            currency (Literal['QAR']):
            description (str): Shown on the QPay page; at most 255 characters once UTF-8 URL-encoded (Checkout.com's limit:
                about 43 Arabic letters)
            national_id (str): Shopper's Qatar national ID; sent to Checkout.com only, never stored or logged
            reference (str): The merchant's order id; one live payment per reference
            customer (Customer | None | Unset):
            language (CreatePaymentRequestLanguage | Unset):  Default: CreatePaymentRequestLanguage.EN.
            metadata (CreatePaymentRequestMetadata | Unset):
            quantity (int | Unset):  Default: 1.
     """

    amount: int
    currency: Literal['QAR']
    description: str
    national_id: str
    reference: str
    customer: Customer | None | Unset = UNSET
    language: CreatePaymentRequestLanguage | Unset = CreatePaymentRequestLanguage.EN
    metadata: CreatePaymentRequestMetadata | Unset = UNSET
    quantity: int | Unset = 1





    def to_dict(self) -> dict[str, Any]:
        from ..models.create_payment_request_metadata import CreatePaymentRequestMetadata # noqa: PLC0415
        from ..models.customer import Customer # noqa: PLC0415
        amount = self.amount

        currency = self.currency

        description = self.description

        national_id = self.national_id

        reference = self.reference

        customer: dict[str, Any] | None | Unset
        if isinstance(self.customer, Unset):
            customer = UNSET
        elif isinstance(self.customer, Customer):
            customer = self.customer.to_dict()
        else:
            customer = self.customer

        language: str | Unset = UNSET
        if not isinstance(self.language, Unset):
            language = self.language.value


        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        quantity = self.quantity


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "amount": amount,
            "currency": currency,
            "description": description,
            "national_id": national_id,
            "reference": reference,
        })
        if customer is not UNSET:
            field_dict["customer"] = customer
        if language is not UNSET:
            field_dict["language"] = language
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if quantity is not UNSET:
            field_dict["quantity"] = quantity

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.create_payment_request_metadata import CreatePaymentRequestMetadata # noqa: PLC0415
        from ..models.customer import Customer # noqa: PLC0415
        d = dict(src_dict)
        amount = d.pop("amount")

        currency = cast(Literal['QAR'] , d.pop("currency"))
        if currency != 'QAR':
            raise ValueError(f"currency must match const 'QAR', got '{currency}'")

        description = d.pop("description")

        national_id = d.pop("national_id")

        reference = d.pop("reference")

        def _parse_customer(data: object) -> Customer | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                customer_type_0 = Customer.from_dict(data)



                return customer_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Customer | None | Unset, data)

        customer = _parse_customer(d.pop("customer", UNSET))


        _language = d.pop("language", UNSET)
        language: CreatePaymentRequestLanguage | Unset
        if isinstance(_language,  Unset):
            language = UNSET
        else:
            language = CreatePaymentRequestLanguage(_language)




        _metadata = d.pop("metadata", UNSET)
        metadata: CreatePaymentRequestMetadata | Unset
        if isinstance(_metadata,  Unset):
            metadata = UNSET
        else:
            metadata = CreatePaymentRequestMetadata.from_dict(_metadata)




        quantity = d.pop("quantity", UNSET)

        create_payment_request = cls(
            amount=amount,
            currency=currency,
            description=description,
            national_id=national_id,
            reference=reference,
            customer=customer,
            language=language,
            metadata=metadata,
            quantity=quantity,
        )

        return create_payment_request

