"""Writes the hostile import files in imports/ (run again after changing it; output is committed).

    .venv/bin/python tests/data/hostile/make_files.py

What each file should lead to is in imports.json beside it.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent / "imports"
HEADER = "group,domain,text,cause"
GOOD = [
    "กลุ่ม 1,วิชาการ,ครูไม่พอ,ย้ายบ่อย",
    "กลุ่ม 2,งบประมาณ,งบซ่อมแซมไม่พอ,",
]


def csv(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def files() -> dict[str, bytes]:
    good = csv(HEADER, *GOOD)
    hostile_ok = csv(
        HEADER,
        'กลุ่ม 1,วิชาการ,"=HYPERLINK(""http://evil.example"",""x"")",+cmd',
        'กลุ่ม 1,วิชาการ,"<script>alert(1)</script>",@SUM(1+1)',
        "กลุ่ม 2,งบประมาณ,'; DROP TABLE issue;--,-1+1",
        "กลุ่ม 2,Budget,![x](http://evil.example/a.png) 👨‍👩‍👧‍👦,NaN",
        "กลุ่ม 3,วิชาการ,None,null",
    )
    return {
        "good.csv": good.encode("utf-8"),
        "good_bom.csv": good.encode("utf-8-sig"),
        "good_tis620.csv": good.encode("cp874"),
        "good_utf16.csv": good.encode("utf-16"),
        "good_utf16_tabs.csv": good.replace(",", "\t").encode("utf-16"),
        "good_crlf_blank_lines.csv": "".join(
            f"{line}\r\n" for line in [HEADER, "", GOOD[0], " , , , ", GOOD[1]]
        ).encode(),
        "hostile_text.csv": hostile_ok.encode("utf-8"),
        "thai_headers.csv": csv("กลุ่ม,ด้าน,ประเด็นปัญหา", "กลุ่ม 1,วิชาการ,ครูไม่พอ").encode(),
        "utf16_no_bom.csv": good.encode("utf-16-le"),
        "binary_junk.csv": bytes(range(256)) * 8,
        "png_named_csv.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64),
        "empty.csv": b"",
        "header_only.csv": csv(HEADER).encode(),
        "only_blank_rows.csv": csv(HEADER, ",,,", " , , , ").encode(),
        "wrong_columns.csv": csv("name,category,problem", "กลุ่ม 1,วิชาการ,ครูไม่พอ").encode(),
        "json_named_csv.csv": b'{"group": "\xe0\xb8\x81", "text": "x"}',
        "duplicate_rows.csv": csv(HEADER, GOOD[0], GOOD[1], GOOD[0]).encode(),
        "control_chars.csv": csv(HEADER, GOOD[0], "กลุ่ม 1,วิชาการ,bell\x07ring,").encode(),
        "nul_byte.csv": csv(HEADER, "กลุ่ม 1,วิชาการ,ครู\x00ไม่พอ,").encode(),
        "bidi_override.csv": csv(HEADER, "กลุ่ม 1,วิชาการ,invoice\u202egpj.exe,").encode(),
        "zalgo.csv": csv(HEADER, "กลุ่ม 1,วิชาการ,ก่่่่่่่่่่,").encode(),
        "terminal_escape_group.csv": csv(HEADER, "\x1b]0;pwned\x07\x1b[2J,วิชาการ,ครูไม่พอ,").encode(),
        "unknown_group_and_domain.csv": csv(HEADER, "กลุ่ม 99,ไม่มีด้านนี้,ครูไม่พอ,").encode(),
        "cell_too_long.csv": csv(HEADER, "กลุ่ม 1,วิชาการ," + "ก" * 3000 + ",").encode(),
        "empty_statement.csv": csv(HEADER, GOOD[0], "กลุ่ม 1,วิชาการ,\u200b  ,x").encode(),
        "unterminated_quote.csv": csv(HEADER, 'กลุ่ม 1,วิชาการ,"ครูไม่พอ,').encode(),
        "ragged_rows.csv": csv(HEADER, "กลุ่ม 1,วิชาการ,ครูไม่พอ,a,b,c,d").encode(),
        "too_many_rows.csv": csv(HEADER, *[f"g,d,{n}," for n in range(5001)]).encode(),
        "good.xlsx": workbook([HEADER.split(","), *[row.split(",") for row in GOOD]]),
        "formulas.xlsx": workbook(
            [
                HEADER.split(","),
                ["กลุ่ม 1", "วิชาการ", '=HYPERLINK("http://evil.example","x")', "=1+1"],
            ]
        ),
        "numbers_and_dates.xlsx": workbook(
            [HEADER.split(","), ["กลุ่ม 1", "วิชาการ", 12345, 1e308], ["กลุ่ม 2", "วิชาการ", True, None]]
        ),
        "truncated.xlsx": workbook([HEADER.split(",")])[:300],
        "encrypted_like.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        "csv_named_xlsx.xlsx": good.encode(),
        "zip_bomb.xlsx": zip_bomb(),
        "old_excel.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        "no_extension": good.encode(),
        "rows_1400000.xlsx": long_sheet(1_400_000, dimension=True),
        "rows_1400000_no_dimension.xlsx": long_sheet(1_400_000, dimension=False),
        "latin1.csv": csv(HEADER, "Group 1,Academic,Café crème,").encode("latin-1"),
        "cp1252.csv": csv(HEADER, "Group 1,Academic,“naïve” – smart quotes,").encode("cp1252"),
        "good_tis620_mixed.csv": csv(
            HEADER, "กลุ่ม 1,วิชาการ,ครูสอน English ไม่พอ (ESL),Wi-Fi ช้า"
        ).encode("cp874"),
    }


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_RELS = "application/vnd.openxmlformats-package.relationships+xml"


def long_sheet(rows: int, *, dimension: bool) -> bytes:
    """A workbook of `rows` identical rows in a few hundred KB, written by hand (openpyxl
    would take minutes): rows and cells leave out their optional `r` references, so the
    XML repeats itself and deflates ~250:1. With `dimension`, the sheet declares its size
    as Excel does; without, only reading the rows tells."""
    texts = ["group", "domain", "text", "กลุ่ม 1", "วิชาการ", "ครูไม่พอ"]
    row = "<row>{}</row>"
    cell = '<c t="s"><v>{}</v></c>'
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{_PKG}/content-types">'
        f'<Default Extension="rels" ContentType="{_RELS}"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPE}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_TYPE}.sharedStrings+xml"/>'
        "</Types>",
        "_rels/.rels": f'<Relationships xmlns="{_PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": f'<workbook xmlns="{_MAIN}" xmlns:r="{_DOC}">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_DOC}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>",
        "xl/sharedStrings.xml": f'<sst xmlns="{_MAIN}">'
        + "".join(f"<si><t>{t}</t></si>" for t in texts)
        + "</sst>",
    }
    header = row.format("".join(cell.format(n) for n in (0, 1, 2)))
    data = row.format("".join(cell.format(n) for n in (3, 4, 5))).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, xml in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + xml)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">'.encode()
            )
            if dimension:
                sheet.write(f'<dimension ref="A1:C{rows + 1}"/>'.encode())
            sheet.write(f"<sheetData>{header}".encode())
            for _ in range(rows // 10_000):
                sheet.write(data * 10_000)
            sheet.write(data * (rows % 10_000) + b"</sheetData></worksheet>")
    return out.getvalue()


def zip_bomb() -> bytes:
    """A small zip that claims (and would unpack to) 101 MB of zeros."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member,
    ):
        for _ in range(101):
            member.write(bytes(1024 * 1024))
    return out.getvalue()


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    for name, data in files().items():
        (HERE / name).write_bytes(data)
    print(f"{len(files())} files in {HERE}")
