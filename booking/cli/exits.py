"""The exit codes every command shares (interrupts: see engine.stopping)."""

EXIT_ANOMALY = 1
EXIT_USAGE = 2
#: --fail-on-anomaly and the run was cut short while moving (TIMEOUT), as timeout(1) exits.
EXIT_TIMEOUT = 124
#: The reader of stdout went away (EPIPE): 128 + SIGPIPE, as a shell reports `yes | head`.
EXIT_BROKEN_PIPE = 141
