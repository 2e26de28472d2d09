"""Run acaas-manage in-process against a real database, for tests.

:class:`Cli` calls :func:`acaas_nova.cmd.manage.main` with a
``--config-file`` naming the test's database, captures stdout/stderr with
pytest's ``capsys`` and checks the CLI's contract on every call: exit code,
one-line errors, no traceback.
"""

import dataclasses
import json
import os

from acaas_nova.cmd import manage


@dataclasses.dataclass
class Result:
    rc: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def write_conf(directory, url) -> str:
    path = os.path.join(str(directory), "acaas.conf")
    with open(path, "w") as f:
        f.write("[acaas_database]\nconnection = %s\n" % url)
    return path


def whitelist_doc(name="compute", version="2026.11", **extra) -> dict:
    doc = {
        "name": name,
        "version": version,
        "description": "good compute image",
        "digests": {"/usr/bin/qemu": ["sha256:" + "ab" * 32]},
        "boot_aggregates": ["sha256:" + "cd" * 32],
    }
    doc.update(extra)
    return doc


class Cli:
    """``cli("location", "list")`` -> Result; ``ok``/``fails`` assert."""

    def __init__(self, capsys, conf_path):
        self.capsys = capsys
        self.conf_path = conf_path

    def __call__(self, *argv, fmt=None) -> Result:
        args = ["--config-file", self.conf_path]
        if fmt:
            args += ["--format", fmt]
        self.capsys.readouterr()
        rc = manage.main(args + [str(a) for a in argv])
        out, err = self.capsys.readouterr()
        return Result(rc, out, err)

    def ok(self, *argv, fmt=None) -> Result:
        result = self(*argv, fmt=fmt)
        assert (result.rc, result.err) == (0, ""), result
        return result

    def json(self, *argv):
        return self.ok(*argv, fmt="json").json()

    def fails(self, code, *argv, fmt=None) -> Result:
        """Assert the contract of an error: code, one stderr line only."""
        result = self(*argv, fmt=fmt)
        assert result.rc == code, result
        assert result.out == "", result
        assert len(result.err.splitlines()) == 1, result.err
        assert result.err.startswith("acaas-manage"), result.err
        assert "Traceback" not in result.err
        return result

    def state(self) -> dict:
        """Everything the CLI can list, to prove a failure wrote nothing."""
        return {
            "locations": self.json("location", "list"),
            "distances": self.json("location", "distance", "list"),
            "domains": self.json("domain", "list"),
            "hosts": self.json("host", "list"),
            "entries": self.json("requirement", "entry", "list"),
            "specs": self.json("requirement", "spec", "list"),
            "whitelists": self.json("whitelist", "list"),
        }
