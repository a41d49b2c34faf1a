"""A Redis store: the count in one key, the store's own sales ledger in a list beside it.

Keys (prefix `booking:`): `stock` (the count), `sales` (a list of "run<TAB>buyer<TAB>
sold_at", the ledger every run appends to), `resets` (one entry per --reset), `lock` (the
TTL lock of ttl-lock and fenced), `fence` (the last fencing token handed out) and
`fenced` (the newest token the store has seen used). A sale is the count's write and its
ledger entry in one MULTI/EXEC, or inside one Lua script: Redis runs either whole.

redis-py is imported here, in the parent, before the buyers are forked; each buyer opens
its own client in connect(), after the fork. No client retries a command: a write retried
after a timeout could be made twice.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from booking import faults
from booking.errors import ServerUnreachable, StoreError
from booking.stores import StoreOptions
from booking.stores.sighting import Sighting, ledger_sighting
from booking.waits import bounded
from booking.words import mask_dsn, without_secrets

PREFIX = "booking:"
STOCK = PREFIX + "stock"
SALES = PREFIX + "sales"
RESETS = PREFIX + "resets"
LOCK = PREFIX + "lock"
FENCE = PREFIX + "fence"
FENCED = PREFIX + "fenced"
SEATS = PREFIX + "seats"
#: The type each of our keys must have when it exists: anything else is not ours.
KEY_TYPES = {
    STOCK: "string",
    SALES: "list",
    RESETS: "list",
    LOCK: "string",
    FENCE: "string",
    FENCED: "string",
}
MAX_COUNT = 2**53
#: The longest wait to open a connection: an unreachable server is said at once.
CONNECT_S = 5.0

# `atomic`: decrement only above zero, and record the sale, in one script.
TAKE = """
local n = tonumber(redis.call('GET', KEYS[1]))
if n == nil then return redis.error_reply('booking:stock holds no count') end
if n <= 0 then return false end
redis.call('SET', KEYS[1], n - 1)
redis.call('RPUSH', KEYS[2], ARGV[1])
return n - 1
"""
# ttl-lock's release: delete the lock only if it is still ours (it may have expired and
# been taken by another buyer meanwhile).
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# fenced's acquire: the lock, and with it the next fencing token, in one step.
ACQUIRE_FENCED = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return false
"""
# fenced's read: the store notes the newest token it has seen used.
FENCED_READ = """
local seen = tonumber(redis.call('GET', KEYS[2]) or '0')
local token = tonumber(ARGV[1])
if token > seen then redis.call('SET', KEYS[2], token) end
return redis.call('GET', KEYS[1])
"""
# fenced's write: applied only if no later token has used the store since this token's
# read; else refused (0), and nothing is written.
FENCED_WRITE = """
local seen = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) < seen then return 0 end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SET', KEYS[1], ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[3])
return 1
"""


def client(dsn: str, timeout_s: float) -> redis.Redis:
    """A client whose every wait is bounded by the run's timeout, and which never retries."""
    return redis.Redis.from_url(
        dsn,
        socket_timeout=bounded(timeout_s),
        socket_connect_timeout=min(CONNECT_S, bounded(timeout_s)),
        retry=Retry(NoBackoff(), 0),
    )


def count_of(value: object) -> int:
    """The count a GET found; ValueError for anything but a whole number in range."""
    try:
        count = int(value) if isinstance(value, bytes | str) else None
    except ValueError:
        count = None
    if count is None or not 0 <= count <= MAX_COUNT:
        raise ValueError(f"{STOCK} holds {value!r}, not a ticket count")
    return count


class RedisStock:
    """One buyer's client: an unguarded GET, and writes that record their sale."""

    def __init__(self, dsn: str, buyer: int, options: StoreOptions) -> None:
        self._client = client(dsn, options.timeout_s)
        self._run = options.run_id
        self._buyer = buyer
        self._take = self._client.register_script(TAKE)
        self._release = self._client.register_script(RELEASE)
        self._acquire_fenced = self._client.register_script(ACQUIRE_FENCED)
        self._fenced_read = self._client.register_script(FENCED_READ)
        self._fenced_write = self._client.register_script(FENCED_WRITE)
        self._watching: Any = None  # optimistic: the pipeline whose WATCH is open

    def _sale(self) -> str:
        return f"{self._run}\t{self._buyer}\t{time.time():.6f}"

    def read(self) -> int:
        return count_of(self._client.get(STOCK))

    def write(self, count: int) -> None:
        """Set the count and record the sale, in one MULTI/EXEC."""
        pipe = self._client.pipeline(transaction=True)
        pipe.set(STOCK, count)
        pipe.rpush(SALES, self._sale())
        pipe.execute()

    def sell_to(self, buyer: int) -> None:
        """The `queue` seller records each sale for the buyer it serves."""
        self._buyer = buyer

    # `atomic` (protocols.ConditionalStock)
    def take(self) -> int | None:
        """Decrement only above zero, with the sale: the count left, or None (sold out)."""
        left = self._take(keys=[STOCK, SALES], args=[self._sale()])
        return None if left is None else int(left)

    def die_taking(self) -> None:
        """--kill-writer: the decrement queued in a MULTI, then death before EXEC (a Lua
        script cannot be cut half-way): Redis discards the transaction of a closed client."""
        self._die_in_multi(("DECR", STOCK))

    # `optimistic` (protocols.VersionedStock): WATCH the count, write in MULTI/EXEC.
    def read_versioned(self) -> int:
        self._unwatch()
        pipe = self._client.pipeline(transaction=True)
        pipe.watch(STOCK)  # type: ignore[no-untyped-call]
        self._watching = pipe
        return count_of(pipe.get(STOCK))

    def swap(self, count: int) -> bool:
        """Write only if nobody wrote the count since read_versioned(): EXEC aborts (a
        WatchError) when a watched key changed, and nothing is written."""
        pipe = self._watching
        if pipe is None:
            raise RuntimeError("swap() without read_versioned()")
        try:
            pipe.multi()
            pipe.set(STOCK, count)
            pipe.rpush(SALES, self._sale())
            pipe.execute()
        except redis.WatchError:
            return False
        finally:
            self._unwatch()
        return True

    def die_writing(self, count: int) -> None:
        """--kill-writer: the write queued in a MULTI, then death before EXEC."""
        self._die_in_multi(("SET", STOCK, count))

    def _unwatch(self) -> None:
        if self._watching is not None:
            self._watching.reset()
            self._watching = None

    def _die_in_multi(self, command: tuple[object, ...]) -> None:
        conn = self._client.connection_pool.get_connection()
        for each in (("MULTI",), command, ("RPUSH", SALES, self._sale())):
            conn.send_command(*each)  # type: ignore[no-untyped-call]
            conn.read_response()
        faults.die()

    # The TTL lock of ttl-lock and fenced (strategies/redis_locks.py).
    def lock(self, token: str, ttl_ms: int) -> bool:
        """SET lock token NX PX ttl: True when this client now holds the lock."""
        return bool(self._client.set(LOCK, token, nx=True, px=ttl_ms))

    def lock_fenced(self, token: str, ttl_ms: int) -> int | None:
        """The lock and a fencing token with it; None when another holds the lock."""
        fence = self._acquire_fenced(keys=[LOCK, FENCE], args=[token, ttl_ms])
        return None if fence is None else int(fence)

    def unlock(self, token: str) -> bool:
        """Compare-and-delete: False when the lock had expired (and may be another's)."""
        return bool(self._release(keys=[LOCK], args=[token]))

    def read_fenced(self, fence: int) -> int:
        return count_of(self._fenced_read(keys=[STOCK, FENCED], args=[fence]))

    def write_fenced(self, count: int, fence: int) -> bool:
        """Write the count and the sale unless a later token has used the store."""
        return bool(
            self._fenced_write(keys=[STOCK, FENCED, SALES], args=[fence, count, self._sale()])
        )

    def close(self) -> None:
        self._client.close()


class RedisStore:
    """The parent's handle: refuses a keyspace that is not ours before writing anything."""

    server = True  # a networked store: atomic and optimistic take its stock as it is

    def __init__(
        self, path: Path, tickets: int, *, create: bool, reset: bool, options: StoreOptions
    ) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._options = options
        self._where = mask_dsn(options.dsn)
        self._mark = (0, 0, 0)  # count, ledger length, resets length: see mark()
        self._overwritten: int | None = None
        self._client = client(options.dsn, options.timeout_s)
        try:
            self._open(tickets, create, reset)
        except BaseException:
            self._client.close()
            raise

    def _open(self, tickets: int, create: bool, reset: bool) -> None:
        with self._speaking("open the store"):
            types = self._types([*KEY_TYPES, SEATS])
            for key, wanted in KEY_TYPES.items():
                if types[key] not in ("none", wanted):
                    raise StoreError(
                        f"{self._where}: key {key} is a {types[key]}, not a {wanted}; "
                        "not a booking store"
                    )
            if types[SEATS] != "none" and not reset:
                raise StoreError(
                    f"{self._where}: holds a seat map ({SEATS}), not a ticket count; "
                    "add --reset to replace it with a store of --tickets tickets"
                )
            if types[STOCK] == "none" and not create:
                raise StoreError(f"{self._where}: no {STOCK} key; no such store")
            existing = types[STOCK] != "none"
            if existing:
                self._stock()  # a count that is not ours is refused before any write
            # Two runs may create the store at once: SET NX lets the first one's count stand.
            pipe = self._client.pipeline(transaction=True)
            pipe.set(STOCK, tickets, nx=True)
            if existing and reset:
                pipe.set(STOCK, tickets)
                pipe.rpush(RESETS, f"{self._options.run_id}\t{tickets}\t{time.time():.6f}")
                pipe.delete(SEATS)
            pipe.execute()

    def _types(self, keys: list[str]) -> dict[str, str]:
        pipe = self._client.pipeline(transaction=False)
        for key in keys:
            pipe.type(key)
        return {key: _text(kind) for key, kind in zip(keys, pipe.execute(), strict=True)}

    def _speaking(self, doing: str) -> _Speaking:
        return _Speaking(self._options.dsn, doing)

    def _stock(self, value: object = None, read: bool = True) -> int:
        found = self._client.get(STOCK) if read else value
        try:
            return count_of(found)
        except ValueError:
            raise StoreError(
                f"{self._where}: {STOCK} must hold a whole number between 0 and 2**53, "
                f"found {found!r}; not a booking store"
            ) from None

    def count(self) -> int:
        with self._speaking("read the count"):
            return self._stock()

    def mark(self) -> int:
        """The count and the lengths of the ledger and of the resets, in one MULTI."""
        with self._speaking("read the store"):
            pipe = self._client.pipeline(transaction=True)
            pipe.get(STOCK)
            pipe.llen(SALES)
            pipe.llen(RESETS)
            value, sales, resets = pipe.execute()
            count = self._stock(value, read=False)
        self._mark = (count, int(sales), int(resets))
        return count

    def sighting(self) -> Sighting:
        """Every run's ledger entries since the mark, with the count, in one MULTI."""
        _, sale, reset = self._mark
        with self._speaking("read the ledger"):
            pipe = self._client.pipeline(transaction=True)
            pipe.get(STOCK)
            pipe.lrange(SALES, sale, -1)
            pipe.lrange(RESETS, reset, -1)
            value, sales, resets = pipe.execute()
            count = self._stock(value, read=False)
        runs = Counter(_text(entry).split("\t", 1)[0] for entry in sales)
        own = self._options.run_id
        return ledger_sighting(
            own,
            count,
            list(runs.items()),
            [_text(entry).split("\t", 1)[0] for entry in resets],
            self._overwritten,
        )

    def connect(self, buyer: int) -> RedisStock:
        return RedisStock(self._options.dsn, buyer, self._options)

    def write_back(self, count: int, buyers: list[int]) -> None:
        """The manager's write-back: the count and every sale in one MULTI; a count that
        changed since the mark was changed by someone else, so note what it replaces."""
        now = time.time()
        run = self._options.run_id
        with self._speaking("write the count back"):
            pipe = self._client.pipeline(transaction=True)
            pipe.get(STOCK)
            pipe.set(STOCK, count)
            if buyers:
                pipe.rpush(SALES, *(f"{run}\t{buyer}\t{now:.6f}" for buyer in buyers))
            found = self._stock(pipe.execute()[0], read=False)
        if found != self._mark[0]:
            self._overwritten = found

    def close(self) -> None:
        """Nothing to sweep: Redis discards the MULTI of a client that died."""
        self._client.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class _Speaking:
    """Turns what redis-py raises into one StoreError line naming the server."""

    def __init__(self, dsn: str, doing: str) -> None:
        self._dsn = dsn
        self._where = mask_dsn(dsn)
        self._doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if exc is None or not isinstance(exc, redis.RedisError):
            return
        detail = without_secrets(" ".join(str(exc).split()), self._dsn)
        if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
            raise ServerUnreachable(
                f"cannot reach the redis server at {self._where}: {detail}"
            ) from None
        raise StoreError(f"{self._where}: cannot {self._doing} ({detail})") from None
