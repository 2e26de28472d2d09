"""Column limits derived from the models; printable-argument checks."""

import argparse

import pytest
import sqlalchemy as sa

from acaas_nova import exception
from acaas_nova.cmd import base
from acaas_nova.db import limits
from acaas_nova.db import models


def test_limits_come_from_the_models():
    assert limits.limit_of(models.Location.name) == models.NAME_LEN
    assert limits.limit_of(models.Whitelist.version) == 64
    assert limits.limit_of(models.Location.description) == limits.TEXT_BYTES
    assert limits.limit_of(models.Whitelist.content) == limits.LONGTEXT_BYTES
    with pytest.raises(ValueError):
        limits.limit_of(models.Location.id)


def test_every_text_column_of_every_model_has_a_limit():
    for table in models.Base.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, sa.String):
                assert limits.column_limit(column) is not None, column


def test_check_value_counts_characters_for_strings_bytes_for_text():
    name = models.Location.__table__.c.name
    text = models.Location.__table__.c.description
    limits.check_value("locations", name, "é" * models.NAME_LEN)
    with pytest.raises(exception.Invalid, match="256 characters long"):
        limits.check_value("locations", name, "x" * 256)
    limits.check_value("locations", text, "x" * limits.TEXT_BYTES)
    # 2 bytes per character in UTF-8: over MySQL's TEXT in bytes.
    with pytest.raises(exception.Invalid, match="at most 65535 are allowed"):
        limits.check_value("locations", text, "é" * 40000)
    limits.check_value("locations", name, None)


def test_the_row_check_is_installed_once():
    limits.install()
    limits.install()
    assert sa.event.contains(models.Base, "before_insert", limits.check_row)
    assert sa.event.contains(models.Base, "before_update", limits.check_row)


@pytest.mark.parametrize(
    "value", ["a\nb", "a\rb", "\x00", "\x1b[2J", "tab\t", "\x7f", "\x85",
              "a\u2028b", "a\u2029b"],
)  # fmt: skip
def test_control_characters_refused(value):
    with pytest.raises(exception.Invalid, match="control character U+"):
        base.check_printable("name", value)


@pytest.mark.parametrize("value", ["UK", "é ü 東京", "a b", "x=y", ""])
def test_printable_text_accepted(value):
    base.check_printable("name", value)


def test_check_arguments_walks_strings_and_lists():
    base.check_arguments(argparse.Namespace(name="ok", pairs=["a=1"], n=3))
    with pytest.raises(exception.Invalid, match="argument pairs"):
        base.check_arguments(argparse.Namespace(pairs=["a=1", "b=\n"]))
