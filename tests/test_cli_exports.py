"""`roundtable export` in every format and `roundtable restore`, through Click's runner."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine

from models import backup, cli, db, demo, exports, io_issues, workshops
from models.schema import Workshop

SLUG = "cluster-2561"


@pytest.fixture
def cli_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """An empty database file that the CLI finds through DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'roundtable.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return db.get_engine(url)


@pytest.fixture
def workshop(cli_engine: Engine) -> Workshop:
    return demo.load_demo(cli_engine)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


def export(tmp_path: Path, fmt: str) -> bytes:
    out = tmp_path / f"out.{fmt}"
    result = run("export", "--workshop", SLUG, "--format", fmt, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"เขียนไฟล์ {out} แล้ว"
    return out.read_bytes()


def test_help_lists_every_format(cli_engine: Engine) -> None:
    assert "[" + "|".join(exports.FORMATS) + "]" in run("export", "--help").output


def test_csv_stays_the_issue_export(tmp_path: Path, cli_engine: Engine, workshop: Workshop) -> None:
    assert export(tmp_path, "csv") == io_issues.export_issues_csv(cli_engine, workshop.id)  # type: ignore[arg-type]


def test_zip_and_xlsx_hold_the_tables(tmp_path: Path, workshop: Workshop) -> None:
    archive = zipfile.ZipFile(io.BytesIO(export(tmp_path, "zip")))
    assert archive.namelist() == [f"{name.lower()}.csv" for name in exports.SHEETS]
    book = openpyxl.load_workbook(io.BytesIO(export(tmp_path, "xlsx")))
    assert book.sheetnames == list(exports.SHEETS)
    assert book["Issues"]["B1"].value == "กลุ่ม"
    assert book["Summary"].max_row == 22  # header, 20 regional groups, total


def test_english_headers_follow_lang(tmp_path: Path, workshop: Workshop) -> None:
    out = tmp_path / "en.xlsx"
    result = run("--lang", "en", "export", "--workshop", SLUG, "--format", "xlsx", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out)["Issues"]["B1"].value == "Group"


def test_json_to_stdout_is_the_backup(cli_engine: Engine, workshop: Workshop) -> None:
    result = run("export", "--workshop", SLUG, "--format", "json", "-o", "-")
    assert result.exit_code == 0
    assert result.stdout_bytes == backup.backup_json(cli_engine, workshop.id)  # type: ignore[arg-type]


def test_restore_beside_the_original_needs_a_new_slug(
    tmp_path: Path, cli_engine: Engine, workshop: Workshop
) -> None:
    backup = tmp_path / "backup.json"
    backup.write_bytes(export(tmp_path, "json"))
    refused = run("--lang", "en", "restore", str(backup))
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (
        f"A workshop “{SLUG}” already exists; give the restored copy a new short name."
    )
    assert "Traceback" not in refused.output
    restored = run("restore", str(backup), "--slug", "cluster-2561-copy")
    assert restored.exit_code == 0, restored.output
    assert restored.stdout.strip() == "กู้คืนการประชุม “cluster-2561-copy” แล้ว"
    assert [w.slug for w in workshops.list_workshops(cli_engine)] == ["cluster-2561-copy", SLUG]


def test_restore_into_an_empty_database_round_trips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workshop: Workshop
) -> None:
    backup = tmp_path / "backup.json"
    backup.write_bytes(export(tmp_path, "json"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    assert run("restore", str(backup)).exit_code == 0
    again = tmp_path / "again.json"
    assert run("export", "--workshop", SLUG, "--format", "json", "-o", str(again)).exit_code == 0
    assert again.read_bytes() == backup.read_bytes()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{oops", "This file is not valid JSON."),
        ("สำรอง".encode("cp874"), "A backup file must be UTF-8"),
        (b'{"format": "roundtable-backup", "version": 99}', "Backup version 99 is not supported"),
    ],
)
def test_restore_refuses_a_broken_file(
    tmp_path: Path, cli_engine: Engine, content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    result = run("--lang", "en", "restore", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.output
    assert workshops.list_workshops(cli_engine) == []
