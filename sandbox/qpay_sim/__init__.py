"""A deterministic simulation of weeks of Checkout.com traffic against the real product code
(issue 19): ``make simulate`` (docs/simulation.md)."""
