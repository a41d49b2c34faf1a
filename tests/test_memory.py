"""Sizes as users type them, and /proc/meminfo as the admission and the guard read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from booking.memory import Meminfo, format_size, meminfo, parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("800M", 800 << 20),
        ("4G", 4 << 30),
        ("4g", 4 << 30),
        ("1.5GiB", 3 << 29),
        ("512KB", 512 << 10),
        (" 2T ", 2 << 40),
        (".5G", 1 << 29),
        ("800Mi", 800 << 20),
    ],
)
def test_sizes_are_binary_and_need_a_unit(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    "text", ["4000", "", "G", "-1G", "1e3M", "4X", "4 GB extra", "0M", "８００M", "nan", "inf"]
)
def test_a_bad_size_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(text)


@pytest.mark.parametrize("text", ["-5G", "0M", "0.0001K"])
def test_a_size_of_nothing_says_it_must_be_more(text: str) -> None:
    with pytest.raises(ValueError, match="must be more than 0"):
        parse_size(text)


@pytest.mark.parametrize("text", ["9" * 400 + "T", "99999999T"])
def test_a_size_past_any_machine_is_a_clear_error_not_an_overflow(text: str) -> None:
    with pytest.raises(ValueError, match="not a size this machine could have"):
        parse_size(text)


def test_sizes_read_as_people_read_them() -> None:
    assert format_size(812 << 20) == "812 MiB"
    assert format_size(2.1 * (1 << 30)) == "2.1 GiB"
    assert format_size(24 << 30) == "24 GiB"
    assert format_size(100) == "100 B"


def test_meminfo_reads_available_and_total(tmp_path: Path) -> None:
    fake = tmp_path / "meminfo"
    fake.write_text("MemTotal:       24000 kB\nMemFree: 1 kB\nMemAvailable:   12000 kB\n")
    assert meminfo(str(fake)) == Meminfo(12000 * 1024, 24000 * 1024)


def test_meminfo_is_none_where_the_kernel_does_not_say(tmp_path: Path) -> None:
    fake = tmp_path / "meminfo"
    fake.write_text("MemTotal: 24000 kB\n")
    assert meminfo(str(fake)) is None
    assert meminfo(str(tmp_path / "missing")) is None


def test_this_machine_has_memory() -> None:
    info = meminfo()
    assert info is not None and 0 < info.available <= info.total
