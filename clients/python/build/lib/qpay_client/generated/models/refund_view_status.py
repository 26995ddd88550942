from enum import StrEnum

class RefundViewStatus(StrEnum):
    DECLINED = "Declined"
    FAILED = "Failed"
    PENDING = "Pending"
    REFUNDED = "Refunded"
    REQUESTED = "Requested"

    def __str__(self) -> str:
        return str(self.value)
