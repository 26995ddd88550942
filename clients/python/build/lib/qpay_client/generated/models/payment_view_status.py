from enum import StrEnum

class PaymentViewStatus(StrEnum):
    CANCELED = "Canceled"
    CAPTURED = "Captured"
    CAPTURE_PENDING = "Capture Pending"
    DECLINED = "Declined"
    EXPIRED = "Expired"
    PARTIALLY_REFUNDED = "Partially Refunded"
    PENDING = "Pending"
    REFUNDED = "Refunded"

    def __str__(self) -> str:
        return str(self.value)
