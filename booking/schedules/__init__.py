"""Deterministic exploration: one buyer step at a time, chosen by a scheduler.

`booking explore` runs a small workload (`workload.py`) many times under controlled buyers
(engine/controlled.py, driven by `executor.py`), each time granting the steps in another
order (`search.py`: exhaustive within a preemption bound, PCT, random), keeps the first
order whose record shows an anomaly, shrinks it (`shrink.py`) and can save it for an exact
`booking replay` (`schedule_file.py`). `model.py` holds the words the search uses. It may
import simulation (for the record), the judge, the engine and everything below them.
"""
