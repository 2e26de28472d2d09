"""The demo's infrastructure, set up the way an operator does.

TPMs are manufactured in parallel by ``swtpm_setup`` (an EK and its
certificate from the demo CA each); the locations, domains, backup
relation, stored specification and white-lists are created with
``acaas-manage`` commands (run in this process, their commands shown).
"""

import contextlib
import io
import json
from pathlib import Path

from acaas_nova import exception
from acaas_nova.cmd import manage
from acaas_nova.demo import nodes as nodes_mod
from acaas_nova.demo import swtpm as swtpm_mod


class TPMs:
    """One manufactured, started swtpm per node name."""

    def __init__(self, base: Path, names) -> None:
        self.base = Path(base)
        self.ca = swtpm_mod.DemoCA(self.base / "demo-ca")
        self.tpms = {n: swtpm_mod.Swtpm(self.base / n) for n in names}
        self._setup = {}

    def manufacture(self) -> None:
        """Start swtpm_setup for every TPM (they run while nova starts)."""
        for name, tpm in self.tpms.items():
            tpm.dir.mkdir(parents=True, exist_ok=True)
            self._setup[name] = self.ca.manufacture(tpm.state)
            if len(self._setup) == 1:
                # The first run creates the CA's keys: not concurrently.
                self.ca.wait(self._setup[name])

    def start(self) -> None:
        for proc in self._setup.values():
            self.ca.wait(proc)
        for tpm in self.tpms.values():
            tpm.start()
        for tpm in self.tpms.values():
            tpm.wait_ready()

    def stop(self) -> None:
        for proc in self._setup.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for tpm in self.tpms.values():
            tpm.stop()


class Manage:
    """``acaas-manage`` with the demo's config file, in this process."""

    def __init__(self, screen, conf_path: Path) -> None:
        self.screen = screen
        self.conf_path = conf_path
        self.base = conf_path.parent

    def __call__(self, *argv, show=True, fmt=None) -> str:
        if show:
            self.screen.command(argv, self.base)
        full = ["--config-file", str(self.conf_path)]
        if fmt:
            full += ["--format", fmt]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = manage.main(full + list(argv))
        if code != 0:
            raise exception.DemoStepFailed(
                reason="acaas-manage %s: exit %d: %s"
                % (" ".join(argv), code, err.getvalue().strip())
            )
        return out.getvalue()


def describe_infrastructure(run: Manage) -> None:
    for name, description in nodes_mod.LOCATIONS:
        run("location", "create", name, "--description", description)
    for a, b, distance in nodes_mod.DISTANCES:
        run("location", "distance", "set", a, b, str(distance))
    for name, (location, source) in nodes_mod.DOMAINS.items():
        run(
            "domain",
            "create",
            name,
            "--location",
            location,
            "--source",
            source,
        )
    for domain, backup, priority in nodes_mod.BACKUPS:
        run(
            "domain",
            "backup",
            "add",
            domain,
            backup,
            "--priority",
            str(priority),
        )


def build_whitelists(run: Manage, nodes: dict, base: Path) -> None:
    """Generate each white-list from its source node's good state
    (measurement list and PCRs read from its TPM), then import it."""
    for name, source in nodes_mod.WHITELIST_SOURCES.items():
        log_path, pcrs = nodes[source].good_state()
        pcr_file = base / ("%s-pcrs.json" % source)
        pcr_file.write_text(
            json.dumps(
                {
                    bank: {str(i): v.hex() for i, v in values.items()}
                    for bank, values in pcrs.items()
                }
            )
        )
        out = base / ("whitelist-%s.json" % name)
        run(
            "whitelist",
            "generate",
            "--name",
            name,
            "--version",
            "1",
            "--log",
            str(log_path),
            "--pcrs",
            str(pcr_file),
            "-o",
            str(out),
        )
        run("whitelist", "import", str(out))
