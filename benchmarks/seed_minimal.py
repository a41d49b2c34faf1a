"""The seeds' ticket-grabbing program (seed 001) made minimal: the baseline `booking run`
is measured against. One multiprocessing.Process per buyer, one db.json, one Lock, the
seeds' in-place writes, no instrumentation at all.

usage: python seed_minimal.py DB.json BUYERS {none,lock} THINK_MS
"""

import json
import random
import sys
import time
from multiprocessing import Lock, Process


def search(db):
    # The seeds crash here when a buyer truncates the file mid-read (FACTS.md): retry.
    while True:
        try:
            with open(db, encoding="utf-8") as f:
                return json.load(f)["count"]
        except ValueError:
            continue


def get(db, think):
    with open(db, encoding="utf-8") as f:
        dic = json.load(f)
    if dic["count"] > 0:
        dic["count"] -= 1
        if think:
            time.sleep(random.uniform(0, think))
        with open(db, "w", encoding="utf-8") as f:
            json.dump(dic, f)


def task(db, mutex, think):
    search(db)
    if mutex is None:
        get(db, think)
    else:
        with mutex:
            get(db, think)


if __name__ == "__main__":
    db, buyers, mode, think_ms = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    mutex = Lock() if mode == "lock" else None
    processes = [Process(target=task, args=(db, mutex, think_ms / 1000)) for _ in range(buyers)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    print(search(db))
