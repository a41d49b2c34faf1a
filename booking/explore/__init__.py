"""Deterministic exploration: one buyer step at a time, chosen by a scheduler.

`booking explore` runs a small workload many times under controlled buyers (engine/
controlled.py), each time granting the steps in another order (search.py), keeps the first
order whose record shows an anomaly, shrinks it (shrink.py) and can save it for an exact
`booking replay` (schedule_file.py).
"""
