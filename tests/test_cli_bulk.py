"""``accord import`` and ``accord export`` as an operator runs them (a subprocess on a
SQLite file of its own): a Zoho export imported with a progress bar and a summary, exit
code 1 and the errors file when rows were rejected, and an export that imports back
unchanged."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.customer_support import credit_code, mobile
from tests.import_support import csv_bytes
from tests.test_cli import accord, demo_database

pytestmark = pytest.mark.sqlite_only


def test_import_then_export_then_import_again_changes_nothing(tmp_path: Path) -> None:
    db = demo_database(tmp_path / "bulk", 0, 7)
    files = {"ACCORD_JOB_FILES_DIR": str(tmp_path / "files")}
    accounts = tmp_path / "Accounts_001.csv"
    accounts.write_bytes(csv_bytes([
        ["Record Id", "Account Name", "Account Owner", "Industry", "Billing State",
         "Billing City"],
        ["zcrm_4876876000000390001", "深圳市海鸥电子有限公司", "am.li", "电子", "广东省",
         "深圳市"],
        ["zcrm_4876876000000390002", "杭州云栖科技有限公司", "am.zhang@demo.accord.local",
         "软件", "浙江省", "杭州市"],
        ["zcrm_4876876000000390003", "", "am.li", "", "", ""]], bom=True))
    run = accord(db, "import", str(accounts), "--preset", "zoho", "--as", "head.east",
                 "--errors", str(tmp_path / "errors.csv"), **files)
    assert run.code == 1, run.output
    assert "created 2" in run.output and "rejected 1" in run.output, run.output
    assert "Accounts_001.csv:4 [Account Name] is required" in run.output, run.output.splitlines()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "errors.csv").read_text("utf-8-sig"))))
    assert [(r["line"], r["code"], r["reason_zh"]) for r in rows] == [
        ("4", "missing", "为必填项")]

    out = tmp_path / "customers.csv"
    run = accord(db, "export", "customers", "--out", str(out), "--as", "head.east", **files)
    assert run.code == 0 and "2 customers written" in run.output, run.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")

    run = accord(db, "import", str(out), "--preset", "accord", "--mode", "upsert",
                 "--as", "head.east", **files)
    assert run.code == 0, run.output
    assert "unchanged 2" in run.output and "updated 0" in run.output, run.output

    # a GB18030 file in a dry run, and requests refused before anything is queued
    data = tmp_path / "客户.csv"
    data.write_bytes(csv_bytes([["客户名称", "统一社会信用代码", "手机"],
                                ["成都天府软件", credit_code(), mobile()]],
                               encoding="gb18030"))
    mapping = '{"客户名称": "name", "统一社会信用代码": "credit_code", "手机": "contact_phone"}'
    run = accord(db, "import", str(data), "--mapping", mapping, "--owner", "am.li",
                 "--dry-run", **files)
    assert run.code == 1, run.output  # a contact phone needs a contact name
    run = accord(db, "import", str(data), "--preset", "hubspot", "--as", "am.li", **files)
    assert run.code == 2 and "preset" in run.output, run.output
    run = accord(db, "import", str(data), "--preset", "zoho", "--as", "nobody", **files)
    assert run.code == 2 and "no active user" in run.output, run.output
