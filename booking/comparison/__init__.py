"""Comparing designs: the round-robin driver that runs every cell of a plan `repeat`
times (`driver.py`, used by `compare` and `scenario run`) and the pure per-cell
statistics (`cellstats.py`). It may import simulation, judge, scenarios, strategies,
stores and the ground floor. (Named `comparison`, not `compare`, so that
`from booking import compare` stays the function of the public API.)
"""
