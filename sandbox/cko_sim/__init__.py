"""A stateful local simulator of Checkout.com's payments API for the QPay payment method.

Embed it in tests::

    from cko_sim import Simulator, SimConfig

    sim = Simulator(SimConfig(webhook_urls=["http://127.0.0.1:3000/webhooks/checkout"]))
    sim.start(port=0)
    ...
    sim.stop()

or run it with ``python -m cko_sim --port 3001 --webhook-url URL --webhook-key KEY``.
"""

from cko_sim.cards import FIXED_EXPIRY_CARD, PIN_CARD, PIN_CARD_PIN
from cko_sim.clock import Clock
from cko_sim.config import DEFAULT_RETRY_SCHEDULE, SimConfig
from cko_sim.core import PageResult, SimulatorCore, append_query
from cko_sim.errors import SimulatorError
from cko_sim.faults import Faults, RequestRecord, SimulatedConnectionDrop
from cko_sim.models.state import Action, Payment, PaymentStatus
from cko_sim.server import PortInUseError
from cko_sim.simulator import Simulator
from cko_sim.webhooks import QPAY_EVENT_TYPES, Delivery, WebhookDispatcher, WebhookEvent, sign, verify

__all__ = [
    "DEFAULT_RETRY_SCHEDULE",
    "FIXED_EXPIRY_CARD",
    "PIN_CARD",
    "PIN_CARD_PIN",
    "QPAY_EVENT_TYPES",
    "Action",
    "Clock",
    "Delivery",
    "Faults",
    "PageResult",
    "Payment",
    "PaymentStatus",
    "PortInUseError",
    "RequestRecord",
    "SimConfig",
    "SimulatedConnectionDrop",
    "Simulator",
    "SimulatorCore",
    "SimulatorError",
    "WebhookDispatcher",
    "WebhookEvent",
    "append_query",
    "sign",
    "verify",
]
