"""Rendering of results as tables and JSON."""

import datetime
import io
import json

from acaas_nova.cmd import output
from acaas_nova.db import records

WHEN = datetime.datetime(2026, 11, 26, 12, 0, 5, tzinfo=datetime.UTC)


def render(fmt, method, *args):
    stream = io.StringIO()
    getattr(output.Output(fmt, stream), method)(*args)
    return stream.getvalue()


def test_plain_records_and_datetimes():
    backup = records.Backup("d1", "d2", 1)
    assert output.plain([backup, WHEN]) == [
        {"domain": "d1", "backup": "d2", "priority": 1},
        "2026-11-26T12:00:05+00:00",
    ]


def test_cells():
    assert output.cell(None) == "-"
    assert output.cell({"b": "2", "a": "1"}) == "a=1, b=2"
    assert output.cell(("x", "y")) == "x, y"
    assert output.cell(WHEN) == "2026-11-26 12:00:05"


def test_rows_table_and_json():
    items = [records.Location("UK", "United Kingdom"), records.Location("FR")]
    columns = [("Name", "name"), ("Description", "description")]
    table = render("table", "rows", columns, items)
    lines = table.splitlines()
    assert "| Name | Description    |" in lines
    assert "| UK   | United Kingdom |" in lines
    assert "| FR   | -              |" in lines
    assert json.loads(render("json", "rows", columns, items)) == [
        {"name": "UK", "description": "United Kingdom"},
        {"name": "FR", "description": None},
    ]


def test_show_and_done():
    item = {"name": "d1", "capabilities": {"gpu": "yes"}}
    fields = [("Name", "name"), ("Capabilities", "capabilities")]
    assert "| Capabilities | gpu=yes |" in render(
        "table", "show", fields, item
    )
    assert json.loads(render("json", "show", fields, item)) == item
    assert render("table", "done", "Created d1", item) == "Created d1\n"
    assert json.loads(render("json", "done", "Created d1", item)) == item
