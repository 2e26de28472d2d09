"""oslo-config-generator prints every acaas-nova option group."""

import os
import subprocess
import sys

BIN = os.path.dirname(sys.executable)


def test_generator_prints_our_groups():
    out = subprocess.run(
        [
            os.path.join(BIN, "oslo-config-generator"),
            "--namespace",
            "acaas_nova",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for group in (
        "[acaas]",
        "[acaas_database]",
        "[dcs]",
        "[dcc]",
        "[nova]",
        "[placement]",
        "[coordination]",
    ):
        assert group in out
    assert "#require_attestation = true" in out
    assert "#state_path = /var/lib/acaas" in out


def _sample_options(path):
    """(group, option) of every line ``[#]name = value`` in ``path``."""
    group, out = None, []
    with open(path) as sample:
        for raw in sample:
            line = raw.strip()
            if line.startswith("[") and line.endswith("]"):
                group = line[1:-1]
            elif "=" in line and not line.startswith("# "):
                out.append((group, line.lstrip("#").split("=")[0].strip()))
    return out


def test_minimal_samples_name_only_real_options():
    """etc/acaas/dcs.conf.sample and dcc.conf.sample are written by hand:
    every option they set or show commented out exists in its group."""
    from acaas_nova.conf import opts

    known = {("DEFAULT", "transport_url"), ("DEFAULT", "log_file")}
    for group, group_opts in opts.list_opts():
        name = getattr(group, "name", group) or "DEFAULT"
        known |= {(name, opt.dest) for opt in group_opts}
    etc = os.path.join(os.path.dirname(__file__), "..", "..", "etc", "acaas")
    for name in ("dcs.conf.sample", "dcc.conf.sample"):
        for group, option in _sample_options(os.path.join(etc, name)):
            assert (group, option) in known, "%s: [%s] %s" % (
                name,
                group,
                option,
            )
