"""The part that acts: the admission refuses, before anything starts, a run the machine
cannot hold (`admission.py`); the runner forks the buyers, holds them at the gate, reads their
frames, runs the watchdog and reaps every child (`runner.py`); a buyer walks its steps
and reports them (`buyer.py`); `frames.py` is the binary wire between them; `stopping.py`
turns SIGINT/SIGTERM into a stop request. It does no arithmetic on results and never
imports judge. It may import scenarios, strategies, stores and the ground floor.
"""
