"""The exit codes every command shares (interrupts: see engine.stopping)."""

EXIT_ANOMALY = 1
EXIT_USAGE = 2
#: A run was ABORTED by the memory guard (unless it proved an anomaly first and
#: --fail-on-anomaly asks for 1): EX_TEMPFAIL of
#: sysexits.h, a temporary failure (try again later, or with fewer buyers). Neither 0, which
#: would claim a finished measurement, nor 1, which says the strategy had an anomaly.
EXIT_ABORTED = 75
#: --fail-on-anomaly and the run was cut short while moving (TIMEOUT), as timeout(1) exits.
EXIT_TIMEOUT = 124
#: A schedule ran two ways (explore's prefix, replay's records): a defect of booking, not
#: of the strategy. EX_SOFTWARE of sysexits.h.
EXIT_SOFTWARE = 70
#: The reader of stdout went away (EPIPE): 128 + SIGPIPE, as a shell reports `yes | head`.
EXIT_BROKEN_PIPE = 141
