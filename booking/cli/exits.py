"""The exit codes every command shares (interrupts: see engine.stopping)."""

EXIT_ANOMALY = 1
EXIT_USAGE = 2
