"""The command line: the typer app (`app.py`), one module per command or command group
(`run`, `compare`, `scenario`, `history`), the options they share (`options.py`), and the
console script's entry (`entry.py`). No logic lives here: each command turns options into
a Scenario, calls the Python API and hands the result to `render`. It may import every
other folder; nothing imports it. Heavy modules are imported inside the command that
needs them, so `booking --help` stays quick.
"""
