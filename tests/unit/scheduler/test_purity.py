"""The decision core imports no nova, oslo or SQLAlchemy (checked by ast)."""

import ast
import pathlib

import pytest

import acaas_nova

PURE = [
    "scheduler/requirements.py",
    "scheduler/precedence.py",
    "scheduler/topology.py",
    "scheduler/matching.py",
    "scheduler/weighing.py",
    "db/records.py",
    "exception.py",
]
FORBIDDEN = ("nova", "oslo_", "oslo", "sqlalchemy", "alembic")


def imported_roots(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("rel", PURE)
def test_module_is_pure(rel):
    path = pathlib.Path(acaas_nova.__file__).parent / rel
    bad = [
        r for r in imported_roots(path) if r.startswith(FORBIDDEN) and r != ""
    ]
    assert bad == [], "%s imports %s" % (rel, bad)
