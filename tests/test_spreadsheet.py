"""CSV cells a spreadsheet would run as formulas stay text (benefits.spreadsheet), in the CLI's exports."""

from __future__ import annotations

import csv
import io

import pytest

from benefits.spreadsheet import cell

from .test_commentary import BENEFIT, cli, store  # noqa: F401  (store is the demo-register fixture)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tlead", "'\tlead"),
        ("-1234.56", "-1234.56"),  # money as exact decimal text stays a number
        ("+5", "+5"),
        ("1e-3", "1e-3"),
        ("Upsell", "Upsell"),
        (-3, -3),
        (None, None),
    ],
)
def test_formula_text_gets_a_quote_and_numbers_do_not(value: object, written: object) -> None:
    assert cell(value) == written


def test_a_note_that_looks_like_a_formula_is_exported_as_text(store: str) -> None:  # noqa: F811
    added = cli(store, "action", "add", BENEFIT, "=1+2", "--owner", "@bob", "--due", "2030-01-10")
    assert added.exit_code == 0, added.output
    listed = list(csv.DictReader(io.StringIO(cli(store, "action", "list", "--format", "csv").output)))
    assert [(row["text"], row["owner"]) for row in listed] == [("'=1+2", "'@bob")]
