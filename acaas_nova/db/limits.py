"""Column size limits, derived from the models and enforced before SQL.

SQLite does not enforce ``VARCHAR(n)``, MySQL/MariaDB truncates or raises
depending on its ``sql_mode``, PostgreSQL raises: the same too-long value
would be stored, cut or refused depending on the backend.  Every row we
insert or update through the ORM is therefore checked here first, on every
backend alike, and a value over its column's size is refused with
:class:`acaas_nova.exception.Invalid` naming the column and its limit.

The limits are the models' own column types as MySQL would store them
(the strictest of our three backends): ``String(n)`` holds ``n``
characters, ``Text`` 65,535 bytes (MySQL's TEXT), ``LONG_TEXT`` 4 GiB
(in practice the caller's own cap, e.g. a white-list document's size).
"""

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from acaas_nova import exception
from acaas_nova.db import models

#: Bytes of MySQL's TEXT, MEDIUMTEXT and LONGTEXT.
TEXT_BYTES = 65535
MEDIUMTEXT_BYTES = (1 << 24) - 1
LONGTEXT_BYTES = (1 << 32) - 1

_MYSQL = mysql.dialect()


def column_limit(column) -> tuple[int, str] | None:
    """``(limit, unit)`` of a column (unit "characters" or "bytes"), or
    None when the column holds no text."""
    impl = column.type.dialect_impl(_MYSQL)
    if isinstance(impl, mysql.LONGTEXT):
        return LONGTEXT_BYTES, "bytes"
    if isinstance(impl, mysql.MEDIUMTEXT):
        return MEDIUMTEXT_BYTES, "bytes"
    if isinstance(impl, sa.Text):
        return TEXT_BYTES, "bytes"
    if isinstance(impl, sa.String) and impl.length:
        return impl.length, "characters"
    return None


def limit_of(attribute) -> int:
    """The limit of a model attribute, e.g. ``limit_of(Location.name)``."""
    found = column_limit(attribute.property.columns[0])
    if found is None:
        raise ValueError("%s holds no text" % attribute)
    return found[0]


def check_value(table: str, column, value) -> None:
    """Raise Invalid if ``value`` does not fit ``column`` of ``table``."""
    if not isinstance(value, str):
        return
    found = column_limit(column)
    if found is None:
        return
    limit, unit = found
    size = len(value) if unit == "characters" else len(value.encode())
    if size > limit:
        raise exception.Invalid(
            reason="%s.%s is %d %s long; at most %d are allowed"
            % (table, column.name, size, unit, limit)
        )


def check_row(mapper, connection, target) -> None:
    """Mapper hook: every text column of ``target`` fits its column."""
    table = mapper.local_table.name
    for attr in mapper.column_attrs:
        for column in attr.columns:
            check_value(table, column, getattr(target, attr.key, None))


def install() -> None:
    """Check every row of our models (never nova's) before it is written;
    idempotent (acaas_nova.db.api calls it at import)."""
    for event in ("before_insert", "before_update"):
        if not sa.event.contains(models.Base, event, check_row):
            sa.event.listen(models.Base, event, check_row, propagate=True)
