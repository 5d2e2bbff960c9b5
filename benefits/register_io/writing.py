"""The register workbook: the empty, documented template, or the loaded register in the same layout.

An instructions sheet lists every column of every sheet (required or not, allowed values, what it
holds, an example); each header carries its description as a comment; columns with a fixed set of
values get a drop-down. What :func:`write_workbook` writes, :func:`benefits.register_io.importing.import_register`
reads back into an equal register.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benefits.errors import BenefitsError
from benefits.register import Register, value_at
from benefits.register_io.dates import forms
from benefits.register_io.layout import (
    BENEFITS,
    INSTRUCTIONS,
    METRICS,
    MILESTONES,
    PORTFOLIO,
    PROFILE_POINTS,
    PROGRAMMES,
    SHEETS,
    Sheet,
)

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

_VALIDATED_ROWS = 2000
"""How far down the drop-downs reach below the last written row."""


def write_workbook(path: Path, register: Register | None = None) -> None:
    """Write the template (no register) or the register into a workbook at ``path``, whole or not at all
    (:mod:`benefits.files`)."""
    from io import BytesIO

    from openpyxl import Workbook

    from benefits.files import write_bytes

    book = Workbook()
    _instructions(book.active)
    rows = _rows(register) if register is not None else {}
    for layout in SHEETS:
        _sheet(book.create_sheet(layout.name), layout, rows.get(layout.name, []))
    book.active = 1  # opens on the Benefits sheet
    buffer = BytesIO()
    book.save(buffer)
    write_bytes(path, buffer.getvalue())


def _rows(register: Register) -> dict[str, list[dict[str, Any]]]:
    """The register as rows of each sheet, by column field."""
    benefits: list[dict[str, Any]] = []
    milestones: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    for initiative in register.initiatives:
        own = initiative.model_dump(mode="python", exclude={"benefits", "milestones"})
        own["investment"] = _investment(initiative.key, own.get("investment"))
        shared = _fields(BENEFITS, own, initiative=True)
        for benefit in initiative.benefits:
            data = benefit.model_dump(mode="python")
            if isinstance(data["profile"], dict):
                points += [{"benefit_key": benefit.key, "point_date": p["date"], "point_value": p["value"]}
                           for p in data["profile"]["points"]]  # fmt: skip
                data["profile"] = "points"
            benefits.append({**shared, **_fields(BENEFITS, data, initiative=False)})
        if not initiative.benefits:
            benefits.append(shared)
        milestones += [
            {"initiative": initiative.key, **_fields(MILESTONES, m.model_dump())} for m in initiative.milestones
        ]
    return {
        PORTFOLIO.name: [_fields(PORTFOLIO, register.model_dump(exclude={"programmes", "initiatives", "metrics"}))],
        PROGRAMMES.name: [_fields(PROGRAMMES, p.model_dump()) for p in register.programmes],
        BENEFITS.name: benefits,
        MILESTONES.name: milestones,
        PROFILE_POINTS.name: points,
        METRICS.name: [_fields(METRICS, m.model_dump()) for m in register.metrics],
    }


def _investment(initiative: str, value: Any) -> Any:
    """An initiative's investment as the one number of its column: costs by date or running costs have no cell."""
    if not isinstance(value, dict):
        return value
    one_off = value.get("one_off") or []
    phased = len(one_off) > 1 or any(c.get("date") for c in one_off)
    if value.get("running") or value.get("horizon") or value.get("metric") or phased:
        raise BenefitsError(
            f"initiative {initiative}: its investment has costs by date, running costs or a spend metric, which the"
            " workbook's Investment column cannot hold: keep this register in portfolio.yaml"
        )
    return one_off[0]["amount"] if one_off else 0


def _fields(layout: Sheet, data: dict[str, Any], initiative: bool | None = None) -> dict[str, Any]:
    """An entry's values by column field (of the initiative's or the benefit's columns on the Benefits sheet)."""
    values = {}
    for column in layout.columns:
        if not column.loc or (initiative is not None and column.initiative != initiative):
            continue
        value = value_at(data, column.loc)
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif hasattr(value, "value") and isinstance(value.value, str):  # an enum
            value = value.value
        values[column.field] = value
    return values


def _sheet(sheet: Worksheet, layout: Sheet, rows: list[dict[str, Any]]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet.append([column.header for column in layout.columns])
    for row in rows:
        sheet.append([row.get(column.field) for column in layout.columns])
    last = len(rows) + _VALIDATED_ROWS
    for n, column in enumerate(layout.columns, start=1):
        letter = get_column_letter(n)
        header = sheet.cell(row=1, column=n)
        header.font = Font(bold=True)
        header.comment = Comment(f"{column.help}{' Required.' if column.required else ''}", "benefits")
        sheet.column_dimensions[letter].width = max(12, len(column.header) + 4)
        if column.kind == "date":
            for (cell,) in sheet.iter_rows(min_row=2, max_row=len(rows) + 1, min_col=n, max_col=n):
                cell.number_format = "yyyy-mm-dd"
        if column.choices:
            listed = DataValidation(type="list", formula1=f'"{",".join(column.choices)}"', allow_blank=True)
            listed.error = f"{column.header}: one of {', '.join(column.choices)}"
            listed.showErrorMessage = True
            sheet.add_data_validation(listed)
            listed.add(f"{letter}2:{letter}{last}")
    sheet.freeze_panes = "A2"


def _instructions(sheet: Worksheet) -> None:
    from openpyxl.styles import Alignment, Font

    sheet.title = INSTRUCTIONS
    lines = [
        "Benefits register",
        "Fill in the Benefits sheet, one row per benefit; the other sheets are optional. Then run:",
        "    benefits register import register.xlsx    (writes config/portfolio.yaml; --force to replace it)",
        "Every problem is listed at once by sheet and cell, e.g. Benefits!Q12: target_date: must be after the "
        "baseline date 2025-09-01 (got '2025-01-01'); nothing is written until there are none.",
        f"Dates: Excel dates, or text {forms(True)}; --monthfirst reads 04/01/2026 as 1 April. Headers may use any "
        "case, spacing or punctuation (Target date, target_date, TARGET-DATE). Columns not listed below are ignored.",
        f"This sheet was written on {dt.date.today().isoformat()}; `benefits register template` writes a fresh one.",
        "",
    ]
    for text in lines:
        sheet.append([text])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["Sheet", "Column", "Required", "Allowed values", "What it holds", "Example"])
    header_row = sheet.max_row
    for layout in SHEETS:
        for column in layout.columns:
            allowed = ", ".join(column.choices) or {"date": "a date", "number": "a number",
                                                    "integer": "a whole number"}.get(column.kind, "text")  # fmt: skip
            sheet.append([layout.name, column.header, "yes" if column.required else "no", allowed, column.help,
                          column.example])  # fmt: skip
    for layout in SHEETS:
        sheet.append([])
        sheet.append([layout.name, layout.help])
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEF", (16, 18, 10, 40, 90, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=header_row + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
