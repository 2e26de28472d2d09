"""The pure cores import no nova, oslo or SQLAlchemy (checked with ast).

Pure modules hold the decisions (requirement matching, quote and IMA
verification, chain-of-trust math); keeping them free of framework imports
keeps them fast, testable without I/O, and reusable by every daemon.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FORBIDDEN = (
    "nova",
    "oslo_",
    "oslo.",
    "sqlalchemy",
    "alembic",
    "tpm2_pytss.ESAPI",
)

# Every module of these packages is pure.
PURE_PACKAGES = (
    "acaas_nova/attestation",
    "acaas_nova/evidence",
    "acaas_nova/compliance",
)
# Single pure modules elsewhere.
PURE_MODULES = (
    "acaas_nova/exception.py",
    "acaas_nova/eventpolicy.py",
    "acaas_nova/requirement_types.py",
    "acaas_nova/db/records.py",
    "acaas_nova/scheduler/requirements.py",
    "acaas_nova/scheduler/precedence.py",
    "acaas_nova/scheduler/topology.py",
    "acaas_nova/scheduler/matching.py",
    "acaas_nova/scheduler/weighing.py",
    "acaas_nova/scheduler/constraints.py",
    "acaas_nova/scheduler/chain_reasons.py",
)
# Pure modules of our own they may import (themselves checked above).
ALLOWED_OWN = (
    "acaas_nova.exception",
    "acaas_nova.requirement_types",
    "acaas_nova.db.records",
    "acaas_nova.attestation",
    "acaas_nova.compliance",
    "acaas_nova.evidence",
    "acaas_nova.scheduler.requirements",
    "acaas_nova.scheduler.precedence",
    "acaas_nova.scheduler.topology",
    "acaas_nova.scheduler.matching",
    "acaas_nova.scheduler.weighing",
    "acaas_nova.scheduler.constraints",
    "acaas_nova.scheduler.chain_reasons",
)


def _pure_files():
    files = [ROOT / m for m in PURE_MODULES]
    for package in PURE_PACKAGES:
        files.extend(sorted((ROOT / package).glob("*.py")))
    return files


def _imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            for alias in node.names:
                yield "%s.%s" % (node.module, alias.name)


@pytest.mark.parametrize(
    "path", _pure_files(), ids=lambda p: str(p.relative_to(ROOT))
)
def test_pure_module_has_no_framework_imports(path):
    for name in _imports(path):
        assert not name.startswith(FORBIDDEN), "%s imports %s" % (path, name)
        if name.startswith("acaas_nova"):
            assert name.startswith(ALLOWED_OWN), "%s imports %s" % (
                path,
                name,
            )


def test_boundary_checker_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from oslo_config import cfg\nimport sqlalchemy as sa\n")
    names = list(_imports(bad))
    assert any(n.startswith(FORBIDDEN) for n in names)
