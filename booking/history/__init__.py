"""The results history: a SQLite file (through sqlite-utils) of sessions and their runs
(`store.py`), how a Result becomes a runs row and back (`columns.py`), a run's step events
kept for its pictures (`timeline.py`), the recorder that saves each run as it finishes
(`saving.py`), and what a saved session reads back as: its params, workload and outcome
(`summary.py`). It may import render, comparison, simulation, judge, engine, scenarios,
strategies, stores and the ground floor (errors, files, sqlite_files, waits, faults); only
cli imports it.
"""
