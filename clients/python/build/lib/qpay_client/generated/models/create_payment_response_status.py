from enum import StrEnum

class CreatePaymentResponseStatus(StrEnum):
    CANCELED = "Canceled"
    CAPTURED = "Captured"
    CAPTURE_PENDING = "Capture Pending"
    DECLINED = "Declined"
    EXPIRED = "Expired"
    PENDING = "Pending"

    def __str__(self) -> str:
        return str(self.value)
