"""Everything a person reads: the run summary (`run.py`), the compare table and its
machine formats (`compare.py`), the sweep chart, the history tables, the progress bar,
and the atomic write of `--out`; `console.py` holds the one width rule and the verdict
colours. The HTML reports: `timeline.py` turns a run's steps into lanes, `figures.py` and
`timeline_figure.py` into SVG shapes, `report.py` and `compare_report.py` fill the Jinja2
templates in `templates/`; `trace.py` writes the Chrome trace.

Rendering decides nothing: it formats what judge and comparison computed. It may import
comparison, judge, engine (a run's step records) and scenarios (and the ground floor);
rich and jinja2 are imported inside the functions that draw, never at import time.
"""
