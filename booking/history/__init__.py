"""The results history: a SQLite file (through sqlite-utils) of sessions and their runs
(`store.py`), and the recorder that saves each run as it finishes (`saving.py`). It may
import render, comparison, simulation, judge, engine, scenarios, strategies, stores and
the ground floor (errors, files, sqlite_files, waits, faults); only cli imports it.
"""
