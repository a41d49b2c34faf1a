"""Everything a person reads: the run summary (`run.py`), the compare table and its
machine formats (`compare.py`), the sweep chart, the history tables, the progress bar,
and the atomic write of `--out`; `console.py` holds the one width rule and the verdict
colours. Rendering decides nothing: it formats what judge and comparison computed. It may
import comparison, judge and scenarios (and the ground floor); rich is imported inside
the functions that draw, never at import time.
"""
