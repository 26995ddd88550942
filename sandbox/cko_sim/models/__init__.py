"""In-memory state of the simulator."""

from cko_sim.models.state import Action, Payment, PaymentStatus, PendingRefund

__all__ = ["Action", "Payment", "PaymentStatus", "PendingRefund"]
