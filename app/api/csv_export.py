"""CSV exports of reports (``?format=csv``): UTF-8 with a byte-order mark, so that Excel
opens Chinese text correctly, and one header row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Response

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]],
                 filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return Response("\ufeff" + buffer.getvalue(), media_type=CSV_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
