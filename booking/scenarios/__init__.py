"""What to run: the Scenario value and its checks (`scenario.py`), TOML scenario files
and their sweeps (`files.py`, each value converted by `values.py`), the plan of compare
cells (`plan.py`), arrival patterns (`arrival.py`), and the bundled scenario files
(`bundled/*.toml`, package data). Pure values and parsing: it may import strategies,
stores and the ground floor only.
"""
