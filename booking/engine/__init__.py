"""The part that acts: the admission refuses, before anything starts, a run the machine
cannot hold (`admission.py`); the runner forks the buyers, holds them at the gate, reads their
frames, runs the watchdog and reaps every child (`runner.py`), and stops a run whose
machine runs short of memory (`memory_guard.py`); a buyer makes its purchases
(`buyer.py`) by its strategy's protocol, whose steps `attempt.py` stamps, reports and
injects faults into, on the wire `reports.py` writes; `frames.py` is the binary wire
between buyers and parent; `stopping.py` turns SIGINT/SIGTERM into a stop request. It
does no arithmetic on results and never imports judge. It may import scenarios,
strategies, stores and the ground floor.
"""
