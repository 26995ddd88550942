"""Benchmarks for the QPay backend: cold start, warm path, round trips, load and a cost model.

Every figure measures *this machine* (its CPU, Python and loopback), not AWS Lambda. Ratios against a
floor measured in the same run are what carry over; absolute milliseconds do not.
"""
