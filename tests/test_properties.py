"""Property-based tests (hypothesis) of the command line and the store loaders.

Random option values and random store bytes (wrong types, negative and huge counts,
truncated JSON, non-UTF-8, corrupt databases) end either in a valid run or in exit 2 with
one clear line, and the store the user named stays byte-for-byte as it was.

Every example works in its own `tempfile.TemporaryDirectory()`: pytest's `tmp_path` is made
once per test, while hypothesis runs the body many times.

The tests at the end pin the bugs these properties found (all fixed: huge timeouts, a lone
surrogate in a JSON store, huge TOML integers, line breaks in messages, a schema that is not
UTF-8). The properties above still set those inputs apart, each spot saying so; the pinned
tests cover them.
"""

from __future__ import annotations

import functools
import json
import math
import multiprocessing
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, example, given, reject, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from booking.cli.app import app
from booking.errors import ScenarioError, StoreError
from booking.scenarios.files import KEYS, ScenarioFile, load, parse
from booking.stores import STORES, StoreOptions
from booking.stores.json_store import MAX_STORE_BYTES, JsonStore
from booking.stores.sqlite_store import SqliteStock, SqliteStore
from booking.strategies import STRATEGIES
from booking.strategies.mp_lock import TimedLock

MAX_COUNT = 2**53
#: Pure tests (no process is forked): many examples, still well under a second each.
PURE = settings(max_examples=200, deadline=None)


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh directory for one hypothesis example."""
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def assert_one_line_about(message: str, prefix: str) -> None:
    assert message.startswith(prefix), message
    assert "\n" not in message, message
    assert "\r" not in message, message


# --- JSON values and documents -------------------------------------------------------------

#: Counts around every boundary the loader has: 0, 2**53, 64-bit, and far past it.
EDGE_INTS = [0, -1, 1, 10, 2**31, 2**53 - 1, 2**53, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30]

json_scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(EDGE_INTS),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # nan and ±inf too: json.dumps writes NaN / Infinity, which json.loads reads
    st.text(max_size=8),
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)

#: Count spellings that json.dumps never writes: exponents, -0, a 5,000-digit integer
#: (past Python's int-string limit), hex, leading zeros and signs JSON does not allow, and
#: "count" given twice.
RAW_COUNTS = [
    b"1e2",
    b"1E400",
    b"-0",
    b"10.0",
    b"0.5",
    b"-1",
    b"9007199254740992",
    b"9007199254740993",
    b"9" * 400,
    b"9" * 5000,
    b"0x10",
    b"010",
    b"+1",
    b" 7 ",
    b"NaN",
    b"-Infinity",
    b'"10"',
    b"[10]",
    b"true",
    b"null",
    b'1, "count": 2',  # a key given twice: the last one counts
    b'5, "count": -1',
]


@st.composite
def json_documents(draw: st.DrawFn) -> bytes:
    """A JSON object with a "count" of any JSON value, maybe other keys, as store bytes."""
    if draw(st.integers(0, 4)) == 0:  # a raw spelling of the count
        return b'{"count": ' + draw(st.sampled_from(RAW_COUNTS)) + b"}"
    doc = draw(st.dictionaries(st.text(max_size=5), json_values, max_size=3))
    if draw(st.booleans()):
        doc["count"] = draw(st.one_of(st.integers(0, 100), st.sampled_from(EDGE_INTS)))
    else:
        doc["count"] = draw(json_values)
    text = json.dumps(
        doc, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 2]))
    )
    return text.encode("utf-8")


@st.composite
def truncated_documents(draw: st.DrawFn) -> bytes:
    data = draw(json_documents())
    return data[: draw(st.integers(0, max(0, len(data) - 1)))]


#: Not UTF-8: a lone byte of 0xff, a cut two-byte sequence, an encoded surrogate, overlong.
BAD_UTF8 = [b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80"]


@st.composite
def non_utf8_documents(draw: st.DrawFn) -> bytes:
    data = draw(json_documents())
    if draw(st.booleans()):  # the same document in another encoding
        codec = draw(st.sampled_from(["utf-16", "utf-32", "latin-1"]))
        return data.decode("utf-8").encode(codec, errors="replace") + b"\xff"
    at = draw(st.integers(0, len(data)))
    return data[:at] + draw(st.sampled_from(BAD_UTF8)) + data[at:]


@st.composite
def deep_documents(draw: st.DrawFn) -> bytes:
    """Nesting deep enough to exhaust the JSON parser's recursion, or not quite."""
    depth = draw(st.sampled_from([10, 900, 1000, 1100, 5000, 100_000]))
    nested = b"[" * depth + b"]" * depth
    return b'{"count": ' + nested + b"}" if draw(st.booleans()) else nested


json_store_bytes: st.SearchStrategy[bytes] = st.one_of(
    st.binary(max_size=64),
    json_documents(),
    truncated_documents(),
    non_utf8_documents(),
    deep_documents(),
)


def json_count(data: bytes) -> Any:
    """The count a store document holds, read independently of booking."""
    return json.loads(data.decode("utf-8"))["count"]


# --- 1. the JSON store loader ----------------------------------------------------------------


@PURE
@given(data=json_store_bytes)
@example(data=b'{"count": 3, "note": "kept"}')
@example(data=b" " * (MAX_STORE_BYTES + 1))  # too big to be a ticket store
@example(data=b"")
def test_json_loader_reads_a_count_or_refuses_in_one_line(data: bytes) -> None:
    with scratch() as directory:
        path = directory / "s.json"
        path.write_bytes(data)
        try:
            store = JsonStore(path, 10, create=True, reset=False, options=StoreOptions())
        except StoreError as exc:
            event("refused")
            assert_one_line_about(str(exc), f"{path}: ")
        else:
            event("loaded")
            count = store.count()
            assert type(count) is int
            assert 0 <= count <= MAX_COUNT
            assert count == json_count(data)
            store.close()
        assert path.read_bytes() == data, "the loader changed the store"
        assert listing(directory) == ["s.json"], "the loader left files behind"


# --- 2. the SQLite store loader --------------------------------------------------------------


def plain_database(path: Path, count_sql: str = "7") -> None:
    """A rollback-journal database of 512-byte pages (small enough for hypothesis to show)
    holding a stock table with one row."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA page_size = 512")
        conn.execute("CREATE TABLE stock (id INTEGER PRIMARY KEY, count INTEGER)")
        conn.execute(f"INSERT INTO stock VALUES (1, {count_sql})")
        conn.commit()
    finally:
        conn.close()


@functools.cache
def database_images() -> tuple[bytes, ...]:
    """Whole databases to corrupt: a plain one, and the same made a booking store (a sales
    table, WAL mode) by the loader itself."""
    with scratch() as directory:
        plain = directory / "plain.db"
        plain_database(plain)
        image = plain.read_bytes()
        SqliteStore(plain, 10, create=True, reset=False, options=StoreOptions()).close()
        return image, plain.read_bytes()


@st.composite
def corrupt_databases(draw: st.DrawFn) -> bytes:
    """A real database, truncated, overwritten in a few places or with junk appended."""
    data = bytearray(draw(st.sampled_from(database_images())))
    how = draw(st.sampled_from(["truncate", "overwrite", "append", "as-is"]))
    if how == "truncate":
        del data[draw(st.integers(0, len(data) - 1)) :]
    elif how == "overwrite":
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(data) - 1))
            patch = draw(st.binary(min_size=1, max_size=4))
            data[at : at + len(patch)] = patch
    elif how == "append":
        data += draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


sqlite_store_bytes: st.SearchStrategy[bytes] = st.one_of(
    st.binary(max_size=64),
    st.binary(max_size=200).map(lambda tail: b"SQLite format 3\x00" + tail),
    corrupt_databases(),
)


@settings(max_examples=150, deadline=None)
@given(data=sqlite_store_bytes)
@example(data=b"")
def test_sqlite_loader_accepts_a_store_or_refuses_it_untouched(data: bytes) -> None:
    with scratch() as directory:
        path = directory / "s.db"
        path.write_bytes(data)
        options = StoreOptions(timeout_s=1.0)
        try:
            store = SqliteStore(path, 10, create=True, reset=False, options=options)
        except UnicodeDecodeError:
            # A known bug, pinned by the pinned test on a schema that is not UTF-8 below:
            # set such inputs aside so that this property keeps guarding everything else.
            reject()
        except StoreError as exc:
            event("refused")
            # Not assert_one_line_about: see the pinned test on SQLite's own messages below.
            assert str(exc).startswith(f"{path}: "), str(exc)
            assert path.read_bytes() == data, "a refused store was changed"
            assert listing(directory) == ["s.db"], "a refused store left files behind"
        else:
            event("accepted")
            # Accepted: it may have gained a sales table and WAL mode; the count is sound.
            count = store.count()
            assert type(count) is int
            assert 0 <= count <= MAX_COUNT
            store.close()


#: One value for the stock row's count: an SQL expression and its parameters.
SqlValue = tuple[str, tuple[Any, ...]]


def _sql_literal(value: int) -> SqlValue:
    # Past 64 bits sqlite3 cannot bind an int; SQLite reads the literal as a REAL (or inf).
    return (str(value), ())


def _no_line_break(blob: bytes) -> bool:
    return b"\n" not in blob and b"\r" not in blob


sql_counts: st.SearchStrategy[SqlValue] = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(lambda v: ("?", (v,))),
    st.sampled_from([v for v in EDGE_INTS if v < 2**63]).map(lambda v: ("?", (v,))),
    st.sampled_from([2**63, 2**64, 10**30, 10**400, -(10**400)]).map(_sql_literal),
    st.floats().map(lambda v: ("?", (v,))),  # nan binds as NULL
    st.text(max_size=10).map(lambda v: ("?", (v,))),
    st.just(("NULL", ())),
    st.binary(max_size=10).map(lambda v: ("?", (v,))),
    # Text that is not UTF-8 (sqlite3 cannot decode it). Line breaks: see the pinned test below.
    st.binary(min_size=1, max_size=6)
    .filter(_no_line_break)
    .map(lambda v: ("CAST(? AS TEXT)", (v + b"\xff",))),
)
#: Declared column types: each gives the column another affinity (or none).
COLUMN_TYPES = ["", "INTEGER", "INT", "REAL", "NUMERIC", "TEXT", "BLOB", "ANY"]


def make_stock(path: Path, column_type: str, value: SqlValue, row_id: int = 1) -> Any:
    """A stock table whose one row holds `value`; returns what SQLite stored, as bytes if it
    is text (which may not be UTF-8)."""
    expression, params = value
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"CREATE TABLE stock (id INTEGER PRIMARY KEY, count {column_type})")
        conn.execute(f"INSERT INTO stock VALUES ({row_id}, {expression})", params)
        conn.commit()
        conn.text_factory = bytes
        stored = conn.execute("SELECT count FROM stock").fetchone()[0]
    finally:
        conn.close()
    return stored


@PURE
@given(
    column_type=st.sampled_from(COLUMN_TYPES),
    value=sql_counts,
    row_id=st.sampled_from([1, 1, 1, 2]),
)
def test_sqlite_loader_takes_only_a_whole_count_in_range(
    column_type: str, value: SqlValue, row_id: int
) -> None:
    with scratch() as directory:
        path = directory / "s.db"
        stored = make_stock(path, column_type, value, row_id)
        try:
            store = SqliteStore(path, 10, create=True, reset=False, options=StoreOptions())
        except StoreError as exc:
            event("refused")
            assert_one_line_about(str(exc), f"{path}: ")
            assert row_id != 1 or type(stored) is not int or not 0 <= stored <= MAX_COUNT
        else:
            event("accepted")
            assert row_id == 1
            assert type(stored) is int
            assert 0 <= stored <= MAX_COUNT
            assert store.count() == stored
            store.close()


# --- 3. the command line ---------------------------------------------------------------------

#: Junk for any option: signs, zero, huge, fractions, not-a-numbers, text, empty, a think
#: with three parts. Whether one is junk depends on the option ("0" is a fine --think).
JUNK = [
    "-1",
    "0",
    "-0",
    "1.5",
    "1e3",
    "1e400",  # float() reads inf
    str(2**64),
    str(-(2**64)),
    "nan",
    "inf",
    "-inf",
    "",
    " ",
    "abc",
    "1:2:3",
    "5:1",
    ":",
    "--",
    "0x10",
    "\n",
    "é",
]
junk_text: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(JUNK),
    st.integers().map(str),
    st.floats().map(repr),
    st.text(max_size=6),
)


def _as_float(text: str) -> float | None:
    """What click's FLOAT makes of an option value (it calls float())."""
    try:
        return float(text)
    except ValueError:
        return None


def _as_int(text: str) -> int | None:
    """What click's INT makes of an option value (it calls int(): spaces, _ and any Unicode
    digit are fine)."""
    try:
        return int(text)
    except ValueError:
        return None


def _cheap_buyers(text: str) -> bool:
    """Junk --buyers must not be a valid count above 4: 5 to 100,000 would fork that many."""
    value = _as_int(text)
    return value is None or value <= 4 or value > 100_000


def _cheap_timeout(text: str) -> bool:
    """Junk --timeout must not be a valid long watchdog: with a huge --think it would be the
    run's length. (Timeouts past ~1.8e299 s also crash: see the pinned tests below.)"""
    value = _as_float(text)
    return value is None or not math.isfinite(value) or value <= 1.0


#: option -> (valid values, junk values). Valid ones keep a run cheap: at most 4 buyers,
#: a few ms of think, a timeout of at most 1 s.
OPTIONS: dict[str, tuple[st.SearchStrategy[str], st.SearchStrategy[str]]] = {
    "--buyers": (st.sampled_from(["1", "2", "3", "4"]), junk_text.filter(_cheap_buyers)),
    "--tickets": (st.integers(0, 20).map(str), junk_text),
    "--think": (st.sampled_from(["0", "0:1", "0.5", "1:2", " 1 "]), junk_text),
    "--attempts": (st.sampled_from(["1", "2", "3"]), junk_text),
    "--timeout": (
        st.sampled_from(["1", "0.5", "0.05", "1e-6"]),
        junk_text.filter(_cheap_timeout),
    ),
    "--seed": (st.sampled_from(["0", "7", str(2**63 - 1)]), junk_text),
    "--json-write": (st.sampled_from(["atomic", "inplace"]), junk_text),
    "--strategy": (st.sampled_from(list(STRATEGIES)), junk_text),
    "--store": (st.sampled_from(list(STORES)), junk_text),
    "--poll-ms": (st.sampled_from(["5", "1", "0.5", "1000"]), junk_text),
}


@st.composite
def run_options(draw: st.DrawFn) -> list[str]:
    """Options for `booking run`: none to three of them junk, the others valid or left out.
    --timeout is always given, valid or junk, so that every run stays short."""
    junk = set(draw(st.permutations(list(OPTIONS)))[: draw(st.sampled_from([0, 0, 1, 2, 3]))])
    args: list[str] = []
    for option, (valid, bad) in OPTIONS.items():
        if option in junk:
            args += [option, draw(bad)]
        elif option == "--timeout" or draw(st.booleans()):
            args += [option, draw(valid)]
    # A valid --poll-ms with another strategy is a usage error: let it through sometimes only,
    # so that most runs with no junk do run.
    if "--poll-ms" not in junk and "filelock" not in args and draw(st.integers(0, 3)):
        at = args.index("--poll-ms") if "--poll-ms" in args else -1
        if at >= 0:
            del args[at : at + 2]
    if draw(st.integers(0, 3)) == 0:
        args.append("--reset")
    return args


def _store_document(count: int) -> bytes:
    return json.dumps({"count": count, "event": "test"}).encode()


#: What the --path store holds before the run: a good store, junk, or no file at all.
store_before: st.SearchStrategy[bytes | None] = st.one_of(
    st.integers(0, 5).map(_store_document),
    st.integers(0, 5).map(_store_document),
    json_store_bytes,
    st.none(),
)


def invoke_run(args: list[str]) -> Result:
    return CliRunner().invoke(app, ["run", *args], prog_name="booking")


@settings(max_examples=60, deadline=None)
@given(args=run_options(), before=store_before)
def test_run_with_any_options_runs_or_exits_2_leaving_the_store_alone(
    args: list[str], before: bytes | None
) -> None:
    with scratch() as directory:
        path = directory / "tickets.json"
        if before is not None:
            path.write_bytes(before)
        names = listing(directory)
        result = invoke_run([*args, "--path", str(path), "--json"])
        out, err = result.stdout, result.stderr
        context = f"exit={result.exit_code} stdout={out!r} stderr={err!r} exc={result.exception!r}"
        event(f"exit {result.exit_code}")
        assert result.exit_code in (0, 2), context
        assert "Traceback" not in out + err, context
        if result.exit_code == 0:
            record = json.loads(out)
            assert isinstance(record, dict), context
            assert "verdict" in record, context
        else:
            assert out == "", context
            line = err.strip()
            assert line.startswith("booking"), context
            assert "error:" in line, context
            assert "\n" not in line, context
            if before is None:
                assert not path.exists(), "exit 2 created the store"
            else:
                assert path.read_bytes() == before, "exit 2 changed the store"
            assert listing(directory) == names, "exit 2 left files next to the store"


# --- 4. scenario files -----------------------------------------------------------------------

#: Text without line breaks: a raw line break in a value is the pinned test below.
one_line_text: st.SearchStrategy[str] = st.text(
    st.characters(exclude_characters="\n\r"), max_size=8
)
#: Integers whose float and str() both exist: larger ones are the pinned tests below.
toml_ints: st.SearchStrategy[int] = st.one_of(
    st.integers(-(2**64), 2**64),
    st.sampled_from(EDGE_INTS),
    st.sampled_from([10**300, -(10**300)]),
)
toml_scalars: st.SearchStrategy[Any] = st.one_of(
    toml_ints, st.floats(), st.booleans(), one_line_text
)
toml_values: st.SearchStrategy[Any] = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(one_line_text, inner, max_size=3)
    ),
    max_leaves=6,
)

#: A good value for each key (a key missing here gets junk only): junk wins only sometimes,
#: so that whole sweeps get expanded too.
GOOD: dict[str, st.SearchStrategy[Any]] = {
    "name": one_line_text,
    "description": one_line_text,
    "repeat": st.integers(1, 5),
    "strategy": st.sampled_from(list(STRATEGIES)),
    "store": st.sampled_from(list(STORES)),
    "buyers": st.integers(1, 100),
    "tickets": st.integers(0, 100),
    "think": st.sampled_from(["1:5", "0", 0, 2.5, "0:1"]),
    "attempts": st.integers(1, 5),
    "arrival": st.sampled_from(["gate", {"rate": 100}, {"stagger_ms": [0, 50]}]),
    "seed": st.integers(0, 2**63 - 1),
    "timeout": st.one_of(st.integers(1, 60), st.floats(0.1, 60)),
    "json_write": st.sampled_from(["atomic", "inplace"]),
    "manager_lock": st.booleans(),
    "poll_ms": st.one_of(st.just(5.0), st.integers(1, 1000), st.floats(0.5, 1000)),
}
JUNK_ARRIVALS: st.SearchStrategy[Any] = st.one_of(
    st.dictionaries(st.sampled_from(["rate", "stagger_ms", "burst"]), toml_values, max_size=2),
    st.fixed_dictionaries({"stagger_ms": st.lists(toml_scalars, max_size=3)}),
)


@st.composite
def key_values(draw: st.DrawFn, key: str) -> Any:
    """A good value most of the time, a sweep of good values, or junk one time in eight."""
    good = GOOD.get(key, toml_values)
    roll = draw(st.integers(0, 7))
    if roll == 0:
        return draw(st.one_of(toml_values, JUNK_ARRIVALS) if key == "arrival" else toml_values)
    if roll <= 2:
        return draw(st.lists(good, min_size=1, max_size=4))
    return draw(good)


@st.composite
def scenario_documents(draw: st.DrawFn) -> dict[str, Any]:
    keys = draw(st.lists(st.sampled_from(KEYS), max_size=6, unique=True))
    if draw(st.integers(0, 7)) == 0:  # an unknown key
        keys.append(draw(st.one_of(st.sampled_from(["buyer", "Strategy", "x"]), one_line_text)))
    return {key: draw(key_values(key)) for key in keys}


overrides: st.SearchStrategy[dict[str, Any] | None] = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["repeat", "seed", "buyers", "tickets", "think", "timeout"]),
        st.one_of(toml_ints, st.floats(), one_line_text),
        max_size=2,
    ),
)


@settings(max_examples=300, deadline=None)
@given(document=scenario_documents(), given_overrides=overrides)
@example(document={"strategy": ["none", "lock"], "buyers": [10, 40]}, given_overrides=None)
def test_scenario_parse_gives_valid_points_or_one_line_naming_the_file(
    document: dict[str, Any], given_overrides: dict[str, Any] | None
) -> None:
    try:
        parsed = parse(document, "x.toml", given_overrides)
    except ScenarioError as exc:
        event("refused")
        message = str(exc)
        assert message.startswith(("x.toml: ", "--")), message
        assert "\n" not in message, message
        assert "\r" not in message, message
    else:
        event(f"parsed: {len(parsed.points)} point(s)" if len(parsed.points) < 3 else "parsed: 3+")
        assert isinstance(parsed, ScenarioFile)
        assert parsed.repeat >= 1
        assert parsed.points, "a scenario with no cell to run"
        for _, scenario in parsed.points:
            scenario.validate()  # every point is a runnable workload


# --- bugs the properties found, fixed: each one stays pinned here -------------------------


@pytest.mark.parametrize("timeout", ["1e300", "1.7976931348623157e308"])
def test_a_huge_timeout_is_refused_or_run(timeout: str) -> None:
    result = invoke_run(["--buyers", "2", "--think", "0", "--timeout", timeout, "--json"])
    assert result.exit_code in (0, 2), repr(result.exception)


def test_a_long_timeout_does_not_break_the_manager_lock() -> None:
    result = invoke_run(
        ["--strategy", "manager", "--buyers", "2", "--think", "0", "--timeout", "1e10", "--json"]
    )
    assert result.exit_code in (0, 2), repr(result.exception)
    if result.exit_code == 0:
        record = json.loads(result.stdout)
        assert record["failed_buyers"] == 0, record["explanation"]
        assert record["verdict"] == "SAFE", record["explanation"]


def test_a_long_timeout_still_waits_for_the_sqlite_write_lock() -> None:
    with scratch() as directory:
        path = directory / "s.db"
        SqliteStore(path, 10, create=True, reset=False, options=StoreOptions()).close()
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        commit = threading.Timer(0.2, holder.execute, ["COMMIT"])
        commit.start()
        try:
            stock = SqliteStock(path, 0, StoreOptions(timeout_s=3e6))
            guard = stock.transaction()
            assert guard.acquire(), "gave up on the write lock without waiting"
            guard.release()
        finally:
            commit.join()
            holder.close()


def test_a_long_timeout_still_waits_for_the_multiprocessing_lock() -> None:
    lock = multiprocessing.get_context("fork").Lock()
    lock.acquire()
    release = threading.Timer(0.1, lock.release)
    release.start()
    try:
        assert TimedLock(lock, 1e19).acquire()
    finally:
        release.join()


#: A lone surrogate, as JSON's \\u escape writes it: valid JSON, not encodable as UTF-8.
SURROGATE_DOC = b'{"count": 5, "note": "\\ud800"}'


@PURE
@given(data=json_documents())
@example(data=SURROGATE_DOC)
def test_a_store_the_json_loader_accepts_can_be_written_back(data: bytes) -> None:
    with scratch() as directory:
        path = directory / "s.json"
        path.write_bytes(data)
        try:
            store = JsonStore(path, 10, create=True, reset=False, options=StoreOptions())
        except StoreError:
            return
        store.write_back(store.count(), [])
        assert store.count() == json_count(data)
        JsonStore(path, 10, create=True, reset=True, options=StoreOptions())
        assert store.count() == 10


#: Number keys (read through float()) and whole-number keys (shown with str() in errors).
NUMBER_KEYS = ["timeout", "poll_ms"]
WHOLE_KEYS = ["buyers", "tickets", "attempts", "seed", "repeat", "think"]


def _big_int_document(key: str, value: int) -> dict[str, Any]:
    if key == "rate":
        return {"arrival": {"rate": value}}
    if key == "stagger_ms":
        return {"arrival": {"stagger_ms": [0, value]}}
    return {key: value}


@PURE
@given(
    key=st.sampled_from([*NUMBER_KEYS, *WHOLE_KEYS, "rate", "stagger_ms"]),
    exponent=st.integers(309, 6000),
    sign=st.sampled_from([1, -1]),
)
@example(key="timeout", exponent=400, sign=1)
@example(key="seed", exponent=5000, sign=1)
def test_a_huge_integer_in_a_scenario_file_is_one_line(key: str, exponent: int, sign: int) -> None:
    try:
        parse(_big_int_document(key, sign * 10**exponent), "x.toml")
    except ScenarioError as exc:
        assert str(exc).startswith("x.toml: ")


def test_a_very_long_integer_literal_is_reported_as_bad_toml() -> None:
    with scratch() as directory:
        path = directory / "x.toml"
        path.write_text("timeout = " + "9" * 5000 + "\n", encoding="utf-8")
        with pytest.raises(ScenarioError, match=r"^x\.toml: "):
            load(path)


@pytest.mark.parametrize(
    "document",
    [{"strategy": "lo\nck"}, {"think": "1\n5"}, {"store": "a\nb"}, {"a\nb": 1}],
)
def test_a_line_break_in_a_scenario_value_stays_on_one_line(document: dict[str, Any]) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse(document, "x.toml")
    assert "\n" not in str(caught.value)


def test_sqlite_loader_message_for_undecodable_text_is_one_line() -> None:
    with scratch() as directory:
        path = directory / "s.db"
        make_stock(path, "", ("CAST(? AS TEXT)", (b"1\n\xff",)))
        with pytest.raises(StoreError) as caught:
            SqliteStore(path, 10, create=True, reset=False, options=StoreOptions())
        assert_one_line_about(str(caught.value), f"{path}: ")


def test_a_schema_that_is_not_utf8_is_refused_in_one_line() -> None:
    with scratch() as directory:
        path = directory / "tickets.db"
        plain_database(path)
        corrupt = path.read_bytes().replace(b"CREATE TABLE stock (", b"CREATE TABLE stock \x80")
        path.write_bytes(corrupt)
        result = invoke_run(["--path", str(path), "--buyers", "1", "--timeout", "1", "--json"])
        assert result.exit_code == 2, repr(result.exception)
        assert path.read_bytes() == corrupt
