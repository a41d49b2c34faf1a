"""Output that degrades instead of crashing on a terminal that is not UTF-8
(`PYTHONIOENCODING=ascii`, a latin-1 locale, `LANG=C` on an old Python): every character
booking prints that such a stream cannot carry becomes a plain ASCII stand-in."""

from __future__ import annotations

import codecs
import io
import sys

#: booking's own non-ASCII characters and what each becomes where it cannot be printed.
ASCII_STAND_INS = {
    "·": "-",
    "±": "+/-",
    "×": "x",
    "†": "+",
    "—": "--",
    "–": "-",
    "→": "->",
    "…": "...",
    "─": "-",
    "│": "|",
    "━": "-",
    "•": "*",
    "✓": "v",
    "÷": "/",
    "≤": "<=",
    "≥": ">=",
    # The chart's bars, lowest to highest, so that heights still differ in ASCII.
    **dict(zip("▁▂▃▄▅▆▇█", ".:-=+*%#", strict=True)),
    **dict.fromkeys("▏▎▍▌▋▊▉", "#"),
}
HANDLER = "booking-ascii"
#: A sample of what booking prints: a stream that cannot carry it gets the stand-ins.
_SAMPLE = "·±×–─"


def _stand_in(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(ASCII_STAND_INS.get(char, "?") for char in bad), error.end


codecs.register_error(HANDLER, _stand_in)


def can_print(stream: object, text: str = _SAMPLE) -> bool:
    """Whether the stream's encoding carries `text` as it is."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def degrade_gracefully() -> None:
    """Give stdout and stderr the ASCII stand-ins when their encoding lacks booking's
    characters. Streams that are not text files of their own (a test runner's) are left."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and not can_print(stream):
            stream.reconfigure(errors=HANDLER)
