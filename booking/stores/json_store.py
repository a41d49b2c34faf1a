"""The seeds' db.json: `{"count": N}`, other keys preserved, written atomically by default."""

from __future__ import annotations

import fcntl
import glob
import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from booking import faults, files
from booking.errors import StoreError
from booking.files import new_file_mode, temp_path
from booking.sqlite_files import SQLITE_HEADER
from booking.stores import StoreOptions, TornRead, store_exists
from booking.stores.seat_store import SEATS_KEY, holds_seat_map, seat_document
from booking.stores.sighting import Sighting, Writer
from booking.stores.writer_tags import (
    FileId,
    Watch,
    run_of,
    tagged_write,
    tags_work,
    writer_of,
    writer_tag,
)
from booking.words import printable

MAX_STORE_BYTES = 1 << 20
MAX_COUNT = 2**53


def inplace_write(path: Path, data: bytes) -> None:
    """The seeds' `open(path, "w")`: truncate, then write. Readers can see it empty."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def encode(doc: dict[str, Any]) -> bytes:
    """UTF-8 JSON, other keys as they were; \\u escapes only when a string cannot be UTF-8
    (a lone surrogate, which JSON allows and UTF-8 does not)."""
    try:
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(doc).encode("ascii")


def parse_document(data: bytes, where: str) -> tuple[dict[str, Any], int]:
    """Parse store bytes as data (never eval) and check the count; StoreError says what is wrong."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise StoreError(
            f"{where}: not a JSON ticket store (the bytes are not UTF-8 text)"
        ) from None
    try:
        doc = json.loads(text)
    except RecursionError:
        raise StoreError(f"{where}: not a JSON ticket store (nested too deeply)") from None
    except ValueError as exc:
        raise StoreError(
            f"{where}: not valid JSON ({exc}); it holds {len(data)} bytes: {data[:48]!r}"
        ) from None
    if not isinstance(doc, dict) or "count" not in doc:
        raise StoreError(
            f'{where}: expected a JSON object with a "count" key, like {{"count": 10}}'
        )
    count = doc["count"]
    if type(count) is not int:
        raise StoreError(f'{where}: "count" must be a whole number, found {json.dumps(count)}')
    if not 0 <= count <= MAX_COUNT:
        raise StoreError(f'{where}: "count" must be between 0 and 2**53, found {count}')
    return doc, count


class JsonStock:
    """One buyer's reader and writer of the JSON file."""

    def __init__(
        self,
        path: Path,
        inplace: bool,
        mode: int,
        tag: bytes | None = None,
        watch: Watch | None = None,
    ) -> None:
        self._path = path
        self._inplace = inplace
        self._mode = mode
        self._tag = tag
        self._watch = watch
        self._doc: dict[str, Any] = {}
        self._read: FileId = (-1, b"")

    def read(self) -> int:
        fd = os.open(self._path, os.O_RDONLY)
        try:
            data = os.read(fd, MAX_STORE_BYTES)
            if self._watch is not None:
                self._read = self._watch.saw(fd)
        finally:
            os.close(fd)
        try:
            doc = json.loads(data)
        except ValueError:
            raise TornRead(f"read {len(data)} bytes that are not a whole JSON document") from None
        count = doc.get("count") if isinstance(doc, dict) else None
        if type(count) is not int:
            raise ValueError(f"the store holds {data[:80]!r}, not a ticket count")
        self._doc = doc
        return count

    def die_writing(self, count: int) -> None:
        """--kill-writer: write half of the new document, then die. In place, that leaves
        the store truncated and half-written; atomic, only a stale temp file."""
        doc = dict(self._doc, count=count)
        data = encode(doc)
        half = data[: len(data) // 2]
        if self._inplace:
            fd = os.open(self._path, os.O_WRONLY | os.O_TRUNC)
        else:
            fd = os.open(temp_path(self._path, os.getpid()), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, half)
        faults.die()

    def version(self) -> int:
        """The "version" of the document of the last read() (`optimistic`); 0 if none."""
        version = self._doc.get("version")
        return version if type(version) is int else 0

    def write(self, count: int, version: int | None = None) -> None:
        """Rewrite the document of the last read() with a new count, other keys kept. A
        "version" key (`optimistic`) goes up with the count, whoever writes it."""
        doc = self._doc
        doc["count"] = count
        if version is not None:
            doc["version"] = version
        elif type(doc.get("version")) is int:
            doc["version"] += 1
        if self._inplace:
            inplace_write(self._path, encode(doc))
        else:
            if self._watch is not None:
                self._watch.replacing(self._path, self._read)
            tagged_write(self._path, encode(doc), self._mode, self._tag)


class JsonStore:
    """The parent's handle: validates, creates or resets the file before any buyer starts."""

    def __init__(
        self, path: Path, tickets: int, *, create: bool, reset: bool, options: StoreOptions
    ) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._inplace = options.json_write == "inplace"
        self._journal: int | None = None
        self._start: FileId = (0, b"")
        self._start_count = 0
        self._overwritten: tuple[int, bytes] | None = None  # (count, tag) a write-back replaced
        exists = store_exists(path, create)
        # Tags only mean something when every write makes a new file (not --json-write
        # inplace, which rewrites one file whose tag never changes).
        lock = os.path.realpath(self.lock_path)
        self._tags = options.shared and not self._inplace and tags_work(path.parent)
        self._tag = f"{options.run_id}\t{options.strategy}\t{lock}".encode() if self._tags else None
        if exists:
            doc = self._load(reset)
            if reset:
                doc["count"] = tickets
                reset_tag = f"{options.run_id}\treset\t".encode() if self._tags else None
                tagged_write(path, encode(doc), self._mode(), reset_tag)
        else:
            create_store(path, encode({"count": tickets}))

    def _mode(self) -> int:
        return self.path.stat().st_mode & 0o7777

    def _load(self, reset: bool) -> dict[str, Any]:
        data = read_store(self.path, "ticket")
        seat_map = seat_document(data)
        if seat_map is not None:  # --reset: the count replaces the map, other keys kept
            if not reset:
                raise holds_seat_map(self.path)
            del seat_map[SEATS_KEY]
            return seat_map
        try:
            doc, _ = parse_document(data, str(self.path))
        except StoreError as exc:
            if reset:
                return {}
            raise StoreError(
                f"{exc}; --reset replaces it with a new store of --tickets tickets"
            ) from None
        return doc

    def count(self) -> int:
        return parse_document(self.path.read_bytes(), str(self.path))[1]

    def _look(self) -> tuple[bytes, int, bytes]:
        """The file now: its bytes, inode and writer tag, all of one open file."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            data = os.read(fd, MAX_STORE_BYTES + 1)
            return data, os.fstat(fd).st_ino, writer_tag(fd) if self._tags else b""
        finally:
            os.close(fd)

    def mark(self) -> int:
        data, inode, tag = self._look()
        self._start = (inode, tag)
        self._start_count = parse_document(data, str(self.path))[1]
        if self._tags and self._journal is None:
            try:
                fd, name = tempfile.mkstemp(prefix="booking-writers-")
            except OSError:  # no room in $TMPDIR: judge without writer tags, never crash
                self._tags, self._tag = False, None
                return self._start_count
            os.unlink(name)
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
            self._journal = fd
        return self._start_count

    def connect(self, buyer: int) -> JsonStock:
        watch = None
        if self._tag is not None and self._journal is not None:
            watch = Watch(self._tag, self._start, self._journal)
        return JsonStock(self.path, self._inplace, self._mode(), self._tag, watch)

    def write_back(self, count: int, buyers: list[int]) -> None:
        """The manager's write-back. The stock lived in the manager and no buyer touched
        the file, so a file that changed since the mark was changed by someone else: note
        what is about to be overwritten."""
        data, inode, tag = self._look()
        doc, found = parse_document(data, str(self.path))
        if found != self._start_count or (self._tags and (inode, tag) != self._start):
            self._overwritten = (found, tag)
        doc["count"] = count
        tagged_write(self.path, encode(doc), self._mode(), self._tag)

    def sighting(self) -> Sighting:
        try:
            return self._sighting()
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot look for other writers ({exc})") from None

    def _sighting(self) -> Sighting:
        reads: Counter[bytes] = Counter()
        overwrites: Counter[bytes] = Counter()
        if self._journal is not None:
            size = os.fstat(self._journal).st_size
            for line in os.pread(self._journal, size, 0).splitlines():
                what, _, writer = line.partition(b"\t")
                (overwrites if what == b"overwrote" else reads)[writer] += 1
        own_run = run_of(self._tag or b"")
        if self._tags:  # the last writer, whether or not a buyer read its file
            _, inode, tag = self._look()
            if run_of(tag) != own_run and (inode, tag) != self._start:
                reads[writer_of(tag)] += 0
        overwritten = None
        if self._overwritten is not None:
            overwritten, tag = self._overwritten
            if run_of(tag) != own_run:
                reads[writer_of(tag)] += 0
        others, resets = [], []
        for tag in reads.keys() | overwrites.keys():
            parts = tag.decode("utf-8", "replace").split("\t")
            run, strategy, lock = [*(printable(part) for part in parts), "", ""][:3]
            if strategy == "reset":
                resets.append(run)
                continue
            # filelock holds <store>.lock across a purchase; optimistic across its
            # compare-and-set: either way, its writes never land inside one of ours.
            locked = strategy in ("filelock", "optimistic")
            same_lock = locked and lock == os.path.realpath(self.lock_path)
            others.append(Writer(run, strategy, same_lock, None, reads[tag], overwrites[tag]))
        return Sighting(
            others=tuple(others),
            resets=tuple(resets),
            overwritten=overwritten,
            identity=self._tags,
        )

    def close(self) -> None:
        """Remove temp files that killed buyers left behind."""
        if self._journal is not None:
            os.close(self._journal)
            self._journal = None
        sweep_temps(self.path)


def sweep_temps(path: Path) -> None:
    """Remove the temp files beside `path` that killed buyers left behind."""
    prefix = f".{path.name}."
    for leftover in path.parent.glob(glob.escape(prefix) + "*.tmp"):
        pid = leftover.name[len(prefix) : -len(".tmp")]
        if pid.isdigit() and not _alive(int(pid)):
            leftover.unlink(missing_ok=True)


def read_store(path: Path, kind: str) -> bytes:
    """An existing JSON store's bytes, refused when too big, or when it is a SQLite
    database (never reset a database into a JSON file). `kind`: "ticket" or "seat"."""
    size = path.stat().st_size
    if size > MAX_STORE_BYTES:
        raise StoreError(f"{path}: {size:,} bytes is too big for a JSON {kind} store")
    data = path.read_bytes()
    if data.startswith(SQLITE_HEADER):
        raise StoreError(
            f"{path}: a SQLite database, not a JSON {kind} store; add --store sqlite to use it"
        )
    return data


def create_store(path: Path, data: bytes) -> None:
    """Write a new store whole, unless another process created it first: then use theirs."""
    tmp = files.write_temp(path, data, new_file_mode())
    try:
        os.link(tmp, path)  # unlike rename, link never replaces an existing file
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True
