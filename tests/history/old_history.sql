-- A history saved by booking 0.1.0 before session names and params changed (commit
-- 543ab77: `run --strategy none`, `compare --strategies lock --stores json,sqlite` and
-- `scenario run grid.toml --tickets 5`, all --save), dumped with sqlite3's iterdump().
BEGIN TRANSACTION;
CREATE TABLE "runs" (
   "id" INTEGER PRIMARY KEY,
   "session_id" INTEGER NOT NULL REFERENCES "sessions"("id"),
   "saved_at" TEXT NOT NULL,
   "point" TEXT,
   "store" TEXT,
   "strategy" TEXT,
   "buyers" INTEGER,
   "tickets" INTEGER,
   "seed" INTEGER,
   "sold" INTEGER,
   "remaining" INTEGER,
   "oversold" INTEGER,
   "lost_updates" INTEGER,
   "refused" INTEGER,
   "errors" INTEGER,
   "max_inside" INTEGER,
   "wall_s" REAL,
   "throughput" REAL,
   "latency_p50_ms" REAL,
   "latency_p95_ms" REAL,
   "latency_p99_ms" REAL,
   "latency_max_ms" REAL,
   "verdict" TEXT,
   "attempts" INTEGER,
   "attempts_per_buyer" INTEGER,
   "think_min_ms" REAL,
   "think_max_ms" REAL,
   "json_write" TEXT,
   "manager_lock" INTEGER,
   "poll_ms" REAL,
   "lock_wait_ms" TEXT,
   "handoff_ms" TEXT,
   "killed" INTEGER,
   "torn_reads" INTEGER,
   "lock_timeouts" INTEGER,
   "busy" INTEGER,
   "failed_buyers" INTEGER,
   "external_sales" INTEGER,
   "startup_s" REAL,
   "timed_out" INTEGER,
   "interrupted" INTEGER,
   "path" TEXT,
   "arrival" TEXT,
   "explanation" TEXT
);
INSERT INTO "runs" VALUES(1,1,'2026-11-29T16:39:45.867+00:00',NULL,'json','none',3,10,1,3,8,0,1,0,0,2,0.021828,137.4,10.102,16.435,16.998,17.139,'LOST_UPDATES',3,1,1.0,5.0,'atomic',NULL,NULL,'{"p50": 0.015, "p95": 0.016, "p99": 0.016, "max": 0.016}','{}',0,0,0,0,0,0,0.009976,0,0,NULL,'gate','["3 receipts for 10 tickets, but the store went down by only 2: 1 sale lost (their decrement was overwritten).", "Up to 2 buyers were inside the read -> write window at once. For example buyer 2 and buyer 0 both read 10 and both wrote 9: the second write overwrote the first, so one sale never reached the store."]');
INSERT INTO "runs" VALUES(2,2,'2026-11-29T16:39:46.784+00:00',NULL,'json','lock',3,10,1,3,7,0,0,0,0,1,0.021404,140.2,17.337,19.914,20.143,20.2,'SAFE',3,1,1.0,5.0,'atomic',NULL,NULL,'{"p50": 6.893, "p95": 16.705, "p99": 17.578, "max": 17.796}','{"p50": 0.458, "p95": 0.836, "p99": 0.87, "max": 0.878}',0,0,0,0,0,0,0.016289,0,0,NULL,'gate','["3 buyers bought 3 of 10 tickets; 0 attempts told sold out; 7 left.", "At most 1 buyer was inside the read -> write window at a time: the lock strategy serialised every purchase."]');
INSERT INTO "runs" VALUES(3,2,'2026-11-29T16:39:46.924+00:00',NULL,'sqlite','lock',3,10,1,3,7,0,0,0,0,1,0.016392,183.0,13.416,15.252,15.415,15.456,'SAFE',3,1,1.0,5.0,NULL,NULL,NULL,'{"p50": 10.037, "p95": 13.422, "p99": 13.722, "max": 13.798}','{"p50": 0.89, "p95": 0.966, "p99": 0.972, "max": 0.974}',0,0,0,0,0,0,0.023249,0,0,NULL,'gate','["3 buyers bought 3 of 10 tickets; 0 attempts told sold out; 7 left.", "At most 1 buyer was inside the read -> write window at a time: the lock strategy serialised every purchase."]');
INSERT INTO "runs" VALUES(4,3,'2026-11-29T16:39:48.160+00:00','{"buyers": "2"}','json','none',2,5,1,2,4,0,1,0,0,2,0.025744,77.7,15.221,23.776,24.536,24.726,'LOST_UPDATES',2,1,1.0,5.0,'atomic',NULL,NULL,'{"p50": 0.015, "p95": 0.015, "p99": 0.015, "max": 0.015}','{}',0,0,0,0,0,0,0.022166,0,0,NULL,'gate','["2 receipts for 5 tickets, but the store went down by only 1: 1 sale lost (their decrement was overwritten).", "Up to 2 buyers were inside the read -> write window at once. For example buyer 0 and buyer 1 both read 5 and both wrote 4: the second write overwrote the first, so one sale never reached the store."]');
INSERT INTO "runs" VALUES(5,3,'2026-11-29T16:39:48.258+00:00','{"buyers": "4"}','json','none',4,5,1,4,3,0,2,0,0,3,0.039963,100.1,12.455,20.42,21.165,21.352,'LOST_UPDATES',4,1,1.0,5.0,'atomic',NULL,NULL,'{"p50": 0.017, "p95": 0.018, "p99": 0.018, "max": 0.018}','{}',0,0,0,0,0,0,0.023747,0,0,NULL,'gate','["4 receipts for 5 tickets, but the store went down by only 2: 2 sales lost (their decrement was overwritten).", "Up to 3 buyers were inside the read -> write window at once. For example buyer 2 and buyer 0 both read 5 and both wrote 4: the second write overwrote the first, so one sale never reached the store."]');
INSERT INTO "runs" VALUES(6,3,'2026-11-29T16:39:48.420+00:00','{"buyers": "2"}','json','lock',2,5,1,2,3,0,0,0,0,1,0.015423,129.7,9.326,11.277,11.45,11.493,'SAFE',2,1,1.0,5.0,'atomic',NULL,NULL,'{"p50": 1.778, "p95": 3.344, "p99": 3.483, "max": 3.518}','{"p50": 0.023, "p95": 0.023, "p99": 0.023, "max": 0.023}',0,0,0,0,0,0,0.047663,0,0,NULL,'gate','["2 buyers bought 2 of 5 tickets; 0 attempts told sold out; 3 left.", "At most 1 buyer was inside the read -> write window at a time: the lock strategy serialised every purchase."]');
INSERT INTO "runs" VALUES(7,3,'2026-11-29T16:39:48.488+00:00','{"buyers": "4"}','json','lock',4,5,1,4,1,0,0,0,0,1,0.039968,100.1,24.051,34.913,36.261,36.597,'SAFE',4,1,1.0,5.0,'atomic',NULL,NULL,'{"p50": 14.206, "p95": 27.789, "p99": 28.465, "max": 28.634}','{"p50": 0.701, "p95": 3.327, "p99": 3.56, "max": 3.618}',0,0,0,0,0,0,0.011636,0,0,NULL,'gate','["4 buyers bought 4 of 5 tickets; 0 attempts told sold out; 1 left.", "At most 1 buyer was inside the read -> write window at a time: the lock strategy serialised every purchase."]');
CREATE TABLE "sessions" (
   "id" INTEGER PRIMARY KEY,
   "kind" TEXT NOT NULL,
   "name" TEXT NOT NULL,
   "started_at" TEXT NOT NULL,
   "finished_at" TEXT,
   "status" TEXT NOT NULL,
   "version" TEXT,
   "python" TEXT,
   "platform" TEXT,
   "cores" INTEGER,
   "params" TEXT
);
INSERT INTO "sessions" VALUES(1,'run','none/json','2026-11-29T16:39:45.809+00:00','2026-11-29T16:39:45.899+00:00','complete','0.1.0','3.11.7','Linux-6.18.44-fc-v595-x86_64-with-glibc2.36',2,'{"buyers": 3, "tickets": null, "strategy": "none", "store": null, "think_ms": [1.0, 5.0], "attempts": 1, "seed": 1, "timeout_s": 30.0, "path": null, "arrival": "gate"}');
INSERT INTO "sessions" VALUES(2,'compare','compare','2026-11-29T16:39:46.634+00:00','2026-11-29T16:39:46.928+00:00','complete','0.1.0','3.11.7','Linux-6.18.44-fc-v595-x86_64-with-glibc2.36',2,'{"buyers": 3, "tickets": 10, "strategy": "lock", "store": null, "think_ms": [1.0, 5.0], "attempts": 1, "seed": 1, "timeout_s": 30.0, "path": null, "arrival": "gate", "strategies": ["lock"], "stores": ["json", "sqlite"], "repeat": 1, "reference": null}');
INSERT INTO "sessions" VALUES(3,'scenario','grid','2026-11-29T16:39:47.975+00:00','2026-11-29T16:39:48.511+00:00','complete','0.1.0','3.11.7','Linux-6.18.44-fc-v595-x86_64-with-glibc2.36',2,'{"file": "/tmp/grid.toml", "overrides": {"tickets": 5, "seed": 1}, "description": ""}');
CREATE INDEX "idx_runs_session_id"
    ON "runs" ("session_id");
COMMIT;
