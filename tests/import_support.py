"""Builders for import and export scenarios: upload a file, run the worker's task, read
the job and its rejected rows; CRM export files written the way those products write
them."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from fastapi import FastAPI

from tests.support import Actor

IMPORTS = "/api/v1/imports"
EXPORTS = "/api/v1/exports"


def csv_bytes(rows: list[list[Any]], *, encoding: str = "utf-8", bom: bool = False,
              quote_all: bool = False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n",
               quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL).writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("客户")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def submit(client: httpx.AsyncClient, who: Actor, file: tuple[str, bytes],
                 contacts: tuple[str, bytes] | None = None, *, status: int = 202,
                 **form: Any) -> dict[str, Any]:
    files = {"file": file}
    if contacts is not None:
        files["contacts_file"] = contacts
    data = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in form.items()}
    response = await client.post(IMPORTS, headers=who.headers, files=files, data=data)
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


async def run_imports(app: FastAPI) -> int:
    """The worker's task, as ``accord worker`` runs it."""
    return await app.state.services.imports.run_queued()  # type: ignore[no-any-return]


async def imported(client: httpx.AsyncClient, app: FastAPI, who: Actor,
                   file: tuple[str, bytes], contacts: tuple[str, bytes] | None = None,
                   **form: Any) -> dict[str, Any]:
    """Submit, run, and return the finished job as ``who`` reads it."""
    job = await submit(client, who, file, contacts, **form)
    await run_imports(app)
    return await read_job(client, who, job["id"])


async def read_job(client: httpx.AsyncClient, who: Actor, job_id: str) -> dict[str, Any]:
    response = await client.get(f"{IMPORTS}/{job_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def rejected_rows(client: httpx.AsyncClient, who: Actor,
                        job_id: str) -> list[dict[str, str]]:
    response = await client.get(f"{IMPORTS}/{job_id}/errors", headers=who.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


async def by_ref(client: httpx.AsyncClient, who: Actor, system: str,
                 external_id: str) -> dict[str, Any] | None:
    """The full customer a CRM id points to, as ``who`` reads it."""
    found = await client.get("/api/v1/customers", headers=who.headers,
                             params={"external_ref": f"{system}:{external_id}"})
    data = found.json()["data"]
    if not data:
        return None
    (summary,) = data
    return (await client.get(f"/api/v1/customers/{summary['id']}",
                             headers=who.headers)).json()  # type: ignore[no-any-return]
