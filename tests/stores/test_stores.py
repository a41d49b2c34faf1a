"""The store contract, over both kinds, then each kind's specifics, then one buyer attempt
driven in-process with fake parts and a real pipe."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from booking import files
from booking.engine import reports
from booking.engine.buyer import BuyerPlan, attempt
from booking.engine.frames import NO_VALUE, Failure, Kind, Outcome, Record, decode_stream
from booking.errors import StoreError
from booking.stores import StoreBusy, StoreFile, StoreOptions, TornRead, load_store
from booking.strategies import Guarded

KINDS = ["json", "sqlite"]
SUFFIX = {"json": "s.json", "sqlite": "s.db"}
OPTIONS = StoreOptions(run_id="t1")
#: Above the largest pid Linux can hand out (pid_max is at most 2**22).
DEAD_PID = 2**22 + 12345


def make(
    name: str,
    path: Path,
    tickets: int,
    *,
    create: bool = True,
    reset: bool = False,
    options: StoreOptions = OPTIONS,
) -> StoreFile:
    kind = load_store(name)
    return kind(path, tickets, create=create, reset=reset, options=options)


def sales(path: Path) -> list[tuple[str, int]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT run, buyer FROM sales ORDER BY id").fetchall()
    finally:
        conn.close()
    return [(str(run), int(who)) for run, who in rows]


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# --- the contract, for both kinds -----------------------------------------------------------


@pytest.mark.parametrize("name", KINDS)
def test_new_store_holds_the_tickets_and_a_stock_reads_them(name: str, tmp_path: Path) -> None:
    path = tmp_path / SUFFIX[name]
    store = make(name, path, 7)
    assert path.is_file()
    assert store.path == path
    assert store.lock_path == tmp_path / (SUFFIX[name] + ".lock")
    assert store.count() == 7
    assert store.connect(1).read() == 7
    store.close()


@pytest.mark.parametrize("name", KINDS)
def test_a_write_is_seen_by_a_fresh_stock_and_by_count(name: str, tmp_path: Path) -> None:
    store = make(name, tmp_path / SUFFIX[name], 7)
    stock = store.connect(1)
    assert stock.read() == 7
    stock.write(3)
    assert store.connect(2).read() == 3
    assert store.count() == 3
    store.close()


@pytest.mark.parametrize("name", KINDS)
def test_create_false_on_a_missing_file_raises_and_creates_nothing(
    name: str, tmp_path: Path
) -> None:
    path = tmp_path / SUFFIX[name]
    with pytest.raises(StoreError, match="no such store"):
        make(name, path, 7, create=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", KINDS)
def test_missing_directory_raises(name: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        make(name, tmp_path / "nowhere" / SUFFIX[name], 7)


@pytest.mark.parametrize("create", [True, False])
@pytest.mark.parametrize("name", KINDS)
def test_an_existing_store_keeps_its_count(name: str, create: bool, tmp_path: Path) -> None:
    path = tmp_path / SUFFIX[name]
    make(name, path, 7).connect(1).write(4)
    again = make(name, path, 50, create=create)
    assert again.count() == 4
    assert again.connect(1).read() == 4


@pytest.mark.parametrize("name", KINDS)
def test_reset_sets_an_existing_store_to_the_tickets(name: str, tmp_path: Path) -> None:
    path = tmp_path / SUFFIX[name]
    make(name, path, 7).connect(1).write(4)
    again = make(name, path, 50, create=False, reset=True)
    assert again.count() == 50
    assert again.connect(1).read() == 50


@pytest.mark.parametrize("name", KINDS)
def test_write_back_sets_the_count(name: str, tmp_path: Path) -> None:
    path = tmp_path / SUFFIX[name]
    store = make(name, path, 10)
    store.write_back(6, [3, 1, 3, 2])
    assert store.count() == 6
    assert store.connect(9).read() == 6


# --- sqlite specifics ------------------------------------------------------------------------


def test_sqlite_write_back_records_one_sale_per_buyer(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = make("sqlite", path, 10)
    assert sales(path) == []
    store.write_back(6, [3, 1, 3, 2])
    assert sales(path) == [("t1", 3), ("t1", 1), ("t1", 3), ("t1", 2)]


def test_sqlite_buyer_write_records_its_sale(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = make("sqlite", path, 10)
    seven, eight = store.connect(7), store.connect(8)
    for stock in (seven, eight, seven):
        stock.write(stock.read() - 1)
    assert store.count() == 7
    assert sales(path) == [("t1", 7), ("t1", 8), ("t1", 7)]


def test_sqlite_transaction_guard_holds_the_write_lock_until_release(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = make("sqlite", path, 10, options=StoreOptions(run_id="t1", timeout_s=0.05))
    holder = store.connect(1)
    waiter = store.connect(2)
    held, other = holder.transaction(), waiter.transaction()  # type: ignore[attr-defined]
    assert held.acquire()
    holder.write(holder.read() - 1)
    assert other.acquire() is False  # the busy wait ran out: a lock timeout, not an error
    assert store.count() == 10  # nothing is visible before the guard's COMMIT
    held.release()
    assert store.count() == 9
    assert other.acquire()
    assert waiter.read() == 9
    waiter.write(8)
    other.release()
    assert store.count() == 8
    assert sales(path) == [("t1", 1), ("t1", 2)]


def test_sqlite_transaction_guard_after_a_failed_write_commits_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = make("sqlite", path, 10)
    stock = store.connect(1)
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE sales")  # the sale cannot be recorded: the write must fail
    conn.close()
    guard = stock.transaction()  # type: ignore[attr-defined]
    assert guard.acquire()
    with pytest.raises(sqlite3.OperationalError, match="sales"):
        stock.write(stock.read() - 1)
    guard.release()
    assert store.count() == 10  # the UPDATE before the failed INSERT was rolled back


def test_sqlite_store_is_in_wal_mode_after_creation(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    make("sqlite", path, 10)
    conn = sqlite3.connect(path)
    try:
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
    finally:
        conn.close()
    assert mode == "wal"


def test_sqlite_reset_keeps_the_sales_ledger(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    make("sqlite", path, 10).write_back(9, [4])
    make("sqlite", path, 20, reset=True)
    assert sales(path) == [("t1", 4)]


def test_sqlite_store_rejects_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.write_bytes(b'{"count": 3}')
    with pytest.raises(StoreError, match="not a SQLite database"):
        make("sqlite", path, 10)
    assert path.read_bytes() == b'{"count": 3}'


# --- json specifics --------------------------------------------------------------------------


def test_json_new_file_is_exactly_the_count(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    make("json", path, 7)
    assert path.read_bytes() == b'{"count": 7}'
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_json_buyer_write_keeps_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"count": 3, "note": "x"}')
    stock = make("json", path, 10).connect(1)
    assert stock.read() == 3
    stock.write(2)
    assert path.read_bytes() == b'{"count": 2, "note": "x"}'


def test_json_write_back_keeps_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"count": 3, "note": "x"}')
    make("json", path, 10).write_back(1, [5, 6])
    assert path.read_bytes() == b'{"count": 1, "note": "x"}'


def test_json_reset_keeps_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"count": 3, "note": "x"}')
    make("json", path, 10, reset=True)
    assert path.read_bytes() == b'{"count": 10, "note": "x"}'


def test_json_reset_repairs_a_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("not json")
    with pytest.raises(StoreError, match="not valid JSON"):
        make("json", path, 10)
    make("json", path, 10, reset=True)
    assert path.read_bytes() == b'{"count": 10}'


def test_json_atomic_writes_keep_permission_bits_and_leave_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = make("json", path, 10)
    path.chmod(0o640)
    inode = path.stat().st_ino
    stock = store.connect(1)
    stock.write(stock.read() - 1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.stat().st_ino != inode  # replaced by rename, not rewritten in place
    store.write_back(5, [1])
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.read_bytes() == b'{"count": 5}'
    assert temp_files(tmp_path) == []
    assert list(tmp_path.glob(".s.json.*.tmp")) == []


def test_json_inplace_write_leaves_the_same_content(tmp_path: Path) -> None:
    atomic_path = tmp_path / "a" / "s.json"
    inplace_path = tmp_path / "b" / "s.json"
    for path, mode in ((atomic_path, "atomic"), (inplace_path, "inplace")):
        path.parent.mkdir()
        path.write_text('{"count": 3, "note": "x"}')
        inode = path.stat().st_ino
        store = make("json", path, 10, options=StoreOptions(json_write=mode, run_id="t1"))
        stock = store.connect(1)
        stock.write(stock.read() - 1)
        # Only the in-place write rewrites the same file; the atomic one renames a new one.
        assert (path.stat().st_ino == inode) is (mode == "inplace")
        assert store.count() == 2
        assert temp_files(path.parent) == []
    assert inplace_path.read_bytes() == atomic_path.read_bytes() == b'{"count": 2, "note": "x"}'


@pytest.mark.parametrize("content", [b"", b'{"count": 1', b'{"count": 10, "no'])
def test_json_stock_read_of_a_torn_file_raises_torn_read(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    stock = make("json", path, 10).connect(1)
    path.write_bytes(content)
    with pytest.raises(TornRead):
        stock.read()


def test_json_stock_read_of_a_whole_document_without_a_count_is_not_torn(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.json"
    stock = make("json", path, 10).connect(1)
    path.write_bytes(b'{"count": "3"}')
    with pytest.raises(ValueError, match="not a ticket count") as info:
        stock.read()
    assert not isinstance(info.value, TornRead)


def test_dead_pid_is_really_dead() -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(DEAD_PID, 0)


def test_json_close_removes_stale_temp_files_only(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = make("json", path, 10)
    stale = files.temp_path(path, DEAD_PID)
    live = files.temp_path(path, os.getpid())
    assert stale.name == f".s.json.{DEAD_PID}.tmp"
    assert live.name == f".s.json.{os.getpid()}.tmp"
    other = tmp_path / ".s.json.backup.tmp"
    for leftover in (stale, live, other):
        leftover.write_text('{"count": 1')
    store.close()
    assert not stale.exists()
    assert live.exists()
    assert other.exists()
    assert path.read_bytes() == b'{"count": 10}'


def test_json_close_survives_a_temp_file_with_an_impossible_pid(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = make("json", path, 10)
    huge = files.temp_path(path, 99_999_999_999)
    huge.write_text("x")
    store.close()
    assert not huge.exists()  # no such process can exist: the file is stale


def test_json_close_with_glob_characters_in_the_name(tmp_path: Path) -> None:
    path = tmp_path / "s[1].json"
    store = make("json", path, 10)
    mine = files.temp_path(path, DEAD_PID)
    theirs = files.temp_path(tmp_path / "s1.json", DEAD_PID)
    mine.write_text("x")
    theirs.write_text("x")
    store.close()
    assert theirs.exists()  # another store's file: not ours to remove
    assert not mine.exists()


def test_two_json_constructions_share_the_first_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    first = make("json", path, 5)
    second = make("json", path, 9)
    assert first.count() == second.count() == 5
    assert path.read_bytes() == b'{"count": 5}'
    assert temp_files(tmp_path) == []


def test_json_creation_that_loses_the_race_uses_the_winners_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process creates the store after this one saw it missing, before it links its
    # own: the link fails and the winner's file stays.
    path = tmp_path / "s.json"
    real = files.write_temp

    def winner_first(target: Path, data: bytes, mode: int) -> Path:
        if not target.exists():
            target.write_bytes(b'{"count": 5}')
        return real(target, data, mode)

    monkeypatch.setattr(files, "write_temp", winner_first)
    store = make("json", path, 9)
    assert store.count() == 5
    assert path.read_bytes() == b'{"count": 5}'
    assert temp_files(tmp_path) == []


# --- one buyer attempt, in-process -----------------------------------------------------------


class FakeStock:
    def __init__(self, value: int, error: Exception | None = None) -> None:
        self.value = value
        self.error = error
        self.write_error: Exception | None = None
        self.reads = 0
        self.writes: list[int] = []

    def read(self) -> int:
        self.reads += 1
        if self.error is not None:
            raise self.error
        return self.value

    def write(self, count: int) -> None:
        if self.write_error is not None:
            raise self.write_error
        self.writes.append(count)
        self.value = count


class FakeGuard:
    def __init__(self, grant: bool = True) -> None:
        self.grant = grant
        self.acquired = 0
        self.released = 0

    def acquire(self) -> bool:
        self.acquired += 1
        return self.grant

    def release(self) -> None:
        self.released += 1


@pytest.fixture
def events() -> Iterator[tuple[int, BuyerPlan]]:
    """The read end of an events pipe, and a plan whose events_fd is its write end."""
    read_fd, write_fd = os.pipe()
    plan = BuyerPlan(
        attempts=1,
        think_ms=(0.0, 0.0),
        seed=0,
        events_fd=write_fd,
        gate_fd=-1,
        parent_pid=os.getpid(),
    )
    try:
        yield read_fd, plan
    finally:
        os.close(read_fd)
        os.close(write_fd)


def sent(read_fd: int) -> Record:
    """The one record the attempt sent down the pipe."""
    buffer = bytearray(os.read(read_fd, 65536))
    records = decode_stream(buffer)
    assert len(records) == 1, records
    assert buffer == bytearray()
    return records[0]


def test_attempt_that_buys(events: tuple[int, BuyerPlan]) -> None:
    read_fd, plan = events
    stock, guard = FakeStock(5), FakeGuard()
    assert attempt(11, 2, Guarded(stock, guard), 0, plan.events_fd) is Outcome.BOUGHT
    record = sent(read_fd)
    assert (record.kind, record.buyer, record.attempt) == (Kind.ATTEMPT, 11, 2)
    assert (record.outcome, record.failure) == (Outcome.BOUGHT, Failure.NONE)
    assert (record.read_value, record.written_value) == (5, 4)
    assert record.message == ""
    stamps = [
        record.t_begin,
        record.t_acquired,
        record.t_read,
        record.t_write,
        record.t_left,
        record.t_end,
    ]
    assert stamps[0] > 0
    assert stamps == sorted(stamps)
    assert stock.writes == [4]
    assert (guard.acquired, guard.released) == (1, 1)
    assert reports.Signals.deferring is False


def test_attempt_on_a_sold_out_stock(events: tuple[int, BuyerPlan]) -> None:
    read_fd, plan = events
    stock, guard = FakeStock(0), FakeGuard()
    assert attempt(3, 0, Guarded(stock, guard), 0, plan.events_fd) is Outcome.SOLD_OUT
    record = sent(read_fd)
    assert (record.outcome, record.failure) == (Outcome.SOLD_OUT, Failure.NONE)
    assert (record.read_value, record.written_value) == (0, NO_VALUE)
    assert record.t_write == 0
    assert 0 < record.t_begin <= record.t_acquired <= record.t_read <= record.t_left
    assert record.t_left <= record.t_end
    assert stock.writes == []
    assert (guard.acquired, guard.released) == (1, 1)


def test_attempt_with_a_torn_read(events: tuple[int, BuyerPlan]) -> None:
    read_fd, plan = events
    stock, guard = FakeStock(5, TornRead("half a file")), FakeGuard()
    assert attempt(4, 1, Guarded(stock, guard), 0, plan.events_fd) is Outcome.ERROR
    record = sent(read_fd)
    assert (record.outcome, record.failure) == (Outcome.ERROR, Failure.TORN_READ)
    assert (record.read_value, record.written_value) == (NO_VALUE, NO_VALUE)
    assert record.message == "torn read: half a file"
    assert record.t_write == 0
    assert 0 < record.t_read <= record.t_left <= record.t_end
    assert stock.writes == []
    assert (guard.acquired, guard.released) == (1, 1)


def test_attempt_whose_write_finds_the_store_busy(events: tuple[int, BuyerPlan]) -> None:
    read_fd, plan = events
    stock, guard = FakeStock(5), FakeGuard()
    stock.write_error = StoreBusy("database is locked")
    assert attempt(4, 0, Guarded(stock, guard), 0, plan.events_fd) is Outcome.ERROR
    record = sent(read_fd)
    assert (record.outcome, record.failure) == (Outcome.ERROR, Failure.BUSY)
    assert (record.read_value, record.written_value) == (5, NO_VALUE)
    assert record.message == "store busy: database is locked"
    assert 0 < record.t_write <= record.t_left <= record.t_end
    assert (guard.acquired, guard.released) == (1, 1)
    assert reports.Signals.deferring is False


def test_attempt_whose_lock_wait_times_out(events: tuple[int, BuyerPlan]) -> None:
    read_fd, plan = events
    stock, guard = FakeStock(5), FakeGuard(grant=False)
    assert attempt(6, 0, Guarded(stock, guard), 0, plan.events_fd) is Outcome.ERROR
    record = sent(read_fd)
    assert (record.kind, record.buyer) == (Kind.ATTEMPT, 6)
    assert (record.outcome, record.failure) == (Outcome.ERROR, Failure.LOCK_TIMEOUT)
    assert (record.read_value, record.written_value) == (NO_VALUE, NO_VALUE)
    assert record.message == "lock wait timed out"
    assert (record.t_acquired, record.t_read, record.t_write, record.t_left) == (0, 0, 0, 0)
    assert 0 < record.t_begin <= record.t_end
    assert stock.reads == 0
    assert (guard.acquired, guard.released) == (1, 0)


def test_runs_creating_one_new_sqlite_store_at_once_all_succeed(tmp_path: Path) -> None:
    # Forked processes race to create each store: table creation and the switch to WAL
    # must not fail the ones that come second, and all of them see the first one's count.
    for race in range(5):
        path = tmp_path / f"race{race}.db"
        children = []
        for tickets in (10, 20, 30, 40):
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    store = make("sqlite", path, tickets)
                    code = 0 if store.count() in (10, 20, 30, 40) else 1
                except BaseException as exc:
                    os.write(2, f"creator {tickets}: {type(exc).__name__}: {exc}\n".encode())
                finally:
                    os._exit(code)
            children.append(pid)
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
        assert codes == [0, 0, 0, 0], (race, codes)
        assert make("sqlite", path, 99).count() in (10, 20, 30, 40)
