"""CSV responses (api.md §1.12): RFC 4180, CRLF, no BOM, formula-injection guard, at most 100 000 rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from litestar import Response

from spotopt.entrypoints.http.wire import dt

MAX_ROWS = 100_000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | Decimal | float | bool | date | datetime | None


def cell(value: Cell) -> str:
    """One cell: ``null`` → empty, booleans ``true``/``false``, §1.6 datetimes, plain decimals; a text cell that a
    spreadsheet would read as a formula is prefixed with ``'``.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return dt(value) or ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float):
        return str(value)
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Response[bytes]:
    """The whole export as one response; ``X-Row-Limit-Reached: true`` when more than ``MAX_ROWS`` rows exist."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    capped = False
    for count, row in enumerate(rows):
        if count == MAX_ROWS:
            capped = True
            break
        writer.writerow([cell(value) for value in row])
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if capped:
        headers["X-Row-Limit-Reached"] = "true"
    return Response(
        buffer.getvalue().encode(), media_type="text/csv", headers=headers
    )  # Litestar adds "; charset=utf-8"
