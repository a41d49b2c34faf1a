"""Pure judgement, no processes or files: the checker turns what the buyers reported
and the store's final count into the result record, its verdict and the sentences that
explain it (`checker.py`). Beside it: what the run can prove about other writers of its
store (`interference.py`), whether it was still moving when it ended (`motion.py`:
DEADLOCK or TIMEOUT), what became of each buyer (`fates.py`), and what the protocols
beyond a guard add to the story: where their safety came from, conflicts and retries,
BEGIN DEFERRED's refusals, a dead seller (`designs.py`). `stats.py` holds the
arithmetic (percentiles, overlap, Wilson, MAD); `result.py` the record itself, the JSON
contract. It may import engine's frame definitions, scenarios, stores and the ground floor.
"""
