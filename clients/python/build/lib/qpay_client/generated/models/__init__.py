""" Contains all the data models used in inputs/outputs """

from .checkout_webhook_body import CheckoutWebhookBody
from .create_payment_request import CreatePaymentRequest
from .create_payment_request_language import CreatePaymentRequestLanguage
from .create_payment_request_metadata import CreatePaymentRequestMetadata
from .create_payment_response import CreatePaymentResponse
from .create_payment_response_status import CreatePaymentResponseStatus
from .customer import Customer
from .decline import Decline
from .error_body import ErrorBody
from .field_error import FieldError
from .gateway_error import GatewayError
from .payment_view import PaymentView
from .payment_view_status import PaymentViewStatus
from .refund_request import RefundRequest
from .refund_response import RefundResponse
from .refund_response_status import RefundResponseStatus
from .refund_view import RefundView
from .refund_view_status import RefundViewStatus
from .webhook_ack import WebhookAck

__all__ = (
    "CheckoutWebhookBody",
    "CreatePaymentRequest",
    "CreatePaymentRequestLanguage",
    "CreatePaymentRequestMetadata",
    "CreatePaymentResponse",
    "CreatePaymentResponseStatus",
    "Customer",
    "Decline",
    "ErrorBody",
    "FieldError",
    "GatewayError",
    "PaymentView",
    "PaymentViewStatus",
    "RefundRequest",
    "RefundResponse",
    "RefundResponseStatus",
    "RefundView",
    "RefundViewStatus",
    "WebhookAck",
)
