"""The files of bulk jobs on a local directory: uploads kept until their job is done,
export results until they expire. CSV is read in its encoding (UTF-8 with or without a
byte-order mark, else GB18030, which Chinese Excel writes) and XLSX read-only, both as
streams, so a million-row file costs a row's memory."""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import json
import shutil
import uuid
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from app.services.ports.bulk import StoredFile

_PROBE = 1 << 20
_WRITE_BUFFER = 1 << 20


def csv_encoding(head: bytes) -> str:
    """``utf-8-sig`` for a BOM, ``utf-8`` when the first megabyte decodes as UTF-8 (a
    character cut at the probe's end is fine), else ``gb18030``."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps phone numbers and ids as numbers
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class _CsvWriter:
    def __init__(self, stream: io.TextIOBase, columns: tuple[str, ...]) -> None:
        stream.write("\ufeff")  # Excel then reads UTF-8 (Chinese) correctly
        self._writer = csv.writer(stream, lineterminator="\r\n")
        self._writer.writerow(columns)
        self._columns = columns

    def write(self, record: Mapping[str, Any]) -> None:
        self._writer.writerow([_text(record.get(c)) for c in self._columns])


class _JsonLinesWriter:
    def __init__(self, stream: io.TextIOBase) -> None:
        self._stream = stream

    def write(self, record: Mapping[str, Any]) -> None:
        self._stream.write(json.dumps(record, ensure_ascii=False, default=_json_default))
        self._stream.write("\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError(type(value).__name__)


class LocalJobFiles:
    def __init__(self, directory: str | Path) -> None:
        self._dir = Path(directory)

    def _path(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError("not a job file key")
        return self._dir / key

    def new_key(self, suffix: str) -> str:
        return f"{uuid.uuid4().hex}{suffix}"

    def store(self, name: str, stream: BinaryIO) -> StoredFile:
        self._dir.mkdir(parents=True, exist_ok=True)
        key = self.new_key(".xlsx" if name.lower().endswith(".xlsx") else ".csv")
        digest, size = hashlib.sha256(), 0
        with self._path(key).open("wb") as out:
            while block := stream.read(1 << 20):
                digest.update(block)
                size += len(block)
                out.write(block)
        return StoredFile(key, digest.hexdigest(), size)

    def rows(self, key: str, name: str) -> Iterator[tuple[int, dict[str, str]]]:
        path = self._path(key)
        if key.endswith(".xlsx"):
            yield from self._xlsx_rows(path)
        else:
            yield from self._csv_rows(path)

    @staticmethod
    def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
        with path.open("rb") as raw:
            encoding = csv_encoding(raw.read(_PROBE))
        with path.open(encoding=encoding, newline="") as text:
            reader = csv.reader(text)
            header = next(reader, None)
            if header is None:
                return
            header = [h.strip() for h in header]
            start = reader.line_num + 1
            for cells in reader:
                if any(c.strip() for c in cells):
                    yield start, dict(zip(header, cells, strict=False))
                start = reader.line_num + 1

    @staticmethod
    def _xlsx_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
        from openpyxl import load_workbook  # only an XLSX upload needs it

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            header = [_cell(h).strip() for h in next(rows, ())]
            for line, values in enumerate(rows, start=2):
                cells = [_cell(v) for v in values]
                if any(c.strip() for c in cells):
                    yield line, dict(zip(header, cells, strict=False))
        finally:
            book.close()

    @contextlib.contextmanager
    def writer(self, key: str, fmt: str, columns: tuple[str, ...]) -> Iterator[Any]:
        self._dir.mkdir(parents=True, exist_ok=True)
        partial = self._path(key + ".part")
        with partial.open("w", encoding="utf-8", newline="") as stream:
            yield _CsvWriter(stream, columns) if fmt == "csv" else _JsonLinesWriter(stream)
        shutil.move(partial, self._path(key))

    @contextlib.contextmanager
    def bytes_writer(self, key: str) -> Iterator[BinaryIO]:
        self._dir.mkdir(parents=True, exist_ok=True)
        partial = self._path(key + ".part")
        try:  # a large buffer: the database's blocks are small, the file is not
            with partial.open("wb", buffering=_WRITE_BUFFER) as stream:
                yield stream
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        shutil.move(partial, self._path(key))

    def path(self, key: str) -> str | None:
        path = self._path(key)
        return str(path) if path.exists() else None

    def remove(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()
