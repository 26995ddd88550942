"""Assemble the Flask app (API, hosted page, admin) behind the fault middleware."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from cko_sim import admin, api, hosted_page
from cko_sim.faults import FaultMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from cko_sim.core import SimulatorCore


def build_wsgi_app(sim: SimulatorCore) -> tuple[Flask, WSGIApplication]:
    app = Flask("cko_sim")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    api.register(app, sim)
    hosted_page.register(app, sim)
    admin.register(app, sim)
    # Flask's middleware pattern: the test client and the server both go through the faults.
    app.wsgi_app = FaultMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, sim.faults, sim.record_request, sim.stop_event
    )
    return app, app
