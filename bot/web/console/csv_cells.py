"""CSV files that spreadsheets open safely: UTF-8 with a byte order mark, no formula in any cell.

Excel reads a CSV file without a byte order mark in the computer's legacy code page, which
garbles Chinese; with :data:`BOM` it reads UTF-8. Text that customers or agents wrote (names,
FAQ questions) can start like a formula (``=HYPERLINK(...)``, ``+``, ``-``, ``@``, or a tab or
carriage return before one), which a spreadsheet would run when the file is opened: such text
gets a leading ``'`` (:func:`safe_cell`), which spreadsheets show as text. Numbers we computed
are written as numbers, so that they can be summed.

>>> print(csv_line(["=1+1", "-", "shop, 商店", 3, -2.5, None, True]).rstrip())
'=1+1,'-,"shop, 商店",3,-2.5,,yes
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | bool | None


def safe_cell(value: Cell) -> str | int | float:
    """``value`` as a spreadsheet should get it: text that could start a formula prefixed with
    ``'``, numbers unchanged, ``None`` empty, booleans ``yes`` / ``no``.

    >>> safe_cell('=HYPERLINK("http://example.com","click")')
    '\\'=HYPERLINK("http://example.com","click")'
    >>> safe_cell("@SUM(A1)"), safe_cell("\\t=1"), safe_cell("a-b"), safe_cell(-1)
    ("'@SUM(A1)", "'\\t=1", 'a-b', -1)
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def csv_line(values: Iterable[Cell]) -> str:
    """One CSV record (RFC 4180: quoted where needed, CRLF), every cell made safe."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([safe_cell(value) for value in values])
    return buffer.getvalue()


def csv_text(header: Iterable[str], rows: Iterable[Iterable[Cell]]) -> str:
    """A whole CSV file: the byte order mark, the header, the rows."""
    return BOM + csv_line(header) + "".join(csv_line(row) for row in rows)
