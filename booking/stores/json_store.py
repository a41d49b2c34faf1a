"""The seeds' db.json: `{"count": N}`, other keys preserved, written atomically by default."""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path
from typing import Any

from booking import faults, files
from booking.errors import StoreError
from booking.files import atomic_write, new_file_mode, temp_path
from booking.sqlite_files import SQLITE_HEADER
from booking.stores import StoreOptions, TornRead

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

    def __init__(self, path: Path, inplace: bool, mode: int) -> None:
        self._path = path
        self._inplace = inplace
        self._mode = mode
        self._doc: dict[str, Any] = {}

    def read(self) -> int:
        fd = os.open(self._path, os.O_RDONLY)
        try:
            data = os.read(fd, MAX_STORE_BYTES)
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

    def write(self, count: int) -> None:
        """Rewrite the document of the last read() with a new count, other keys kept."""
        doc = self._doc
        doc["count"] = count
        if self._inplace:
            inplace_write(self._path, encode(doc))
        else:
            atomic_write(self._path, encode(doc), self._mode)


class JsonStore:
    """The parent's handle: validates, creates or resets the file before any buyer starts."""

    def __init__(
        self, path: Path, tickets: int, *, create: bool, reset: bool, options: StoreOptions
    ) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._inplace = options.json_write == "inplace"
        if not path.parent.is_dir():
            raise StoreError(f"{path}: directory {path.parent} does not exist")
        if path.exists():
            if not path.is_file():
                raise StoreError(f"{path}: not a regular file")
            doc = self._load(reset)
            if reset:
                doc["count"] = tickets
                atomic_write(path, encode(doc), self._mode())
        elif create:
            _create(path, encode({"count": tickets}))
        else:
            raise StoreError(f"{path}: no such store")

    def _mode(self) -> int:
        return self.path.stat().st_mode & 0o7777

    def _load(self, reset: bool) -> dict[str, Any]:
        size = self.path.stat().st_size
        if size > MAX_STORE_BYTES:
            raise StoreError(f"{self.path}: {size:,} bytes is too big for a JSON ticket store")
        data = self.path.read_bytes()
        if data.startswith(SQLITE_HEADER):  # never reset a database into a JSON file
            raise StoreError(
                f"{self.path}: a SQLite database, not a JSON ticket store; "
                "add --store sqlite to use it"
            )
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

    def connect(self, buyer: int) -> JsonStock:
        return JsonStock(self.path, self._inplace, self._mode())

    def write_back(self, count: int, buyers: list[int]) -> None:
        doc, _ = parse_document(self.path.read_bytes(), str(self.path))
        doc["count"] = count
        atomic_write(self.path, encode(doc), self._mode())

    def close(self) -> None:
        """Remove temp files that killed buyers left behind."""
        prefix = f".{self.path.name}."
        for leftover in self.path.parent.glob(glob.escape(prefix) + "*.tmp"):
            pid = leftover.name[len(prefix) : -len(".tmp")]
            if pid.isdigit() and not _alive(int(pid)):
                leftover.unlink(missing_ok=True)


def _create(path: Path, data: bytes) -> None:
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
