"""The demo's compute nodes: a TPM, an IMA measurement list, a DC-C.

Each node has its own swtpm (its own EK, certified by the demo CA) and an
ASCII measurement list file that grows the way the kernel's does: the
entry is appended, then PCR 10 of the TPM is extended with the entry's
template hash.  DC-C reads that file (``[dcc] ima_log_path``) and quotes
the TPM (``[dcc] tcti``), exactly as on a real node.

Two software builds: *standard* nodes also run two diagnostic tools,
*hardened* nodes run only the base stack.  The white-list ``compute`` is
generated from a standard node's good state (every node satisfies it),
``hardened`` from a hardened node's (only hardened nodes satisfy it).  A
domain's members must share their white-lists (its DCoT), so each domain
has one build: lon-1 is hardened.
"""

import dataclasses
from pathlib import Path

from acaas_nova.evidence import ima_build
from acaas_nova.tpm.device import TPMDevice

BASE_FILES = {
    "/usr/bin/python3.11": b"python interpreter 3.11.2",
    "/usr/bin/nova-compute": b"nova-compute 34.0.0",
    "/usr/sbin/libvirtd": b"libvirtd 9.0.0",
    "/etc/nova/nova.conf": b"[DEFAULT]\ncompute_driver = libvirt\n",
}
TOOL_FILES = {
    "/usr/bin/tcpdump": b"tcpdump 4.99",
    "/usr/bin/strace": b"strace 6.1",
}
ROOTKIT = ("/usr/local/bin/.hidden/kworker", b"a file on no white-list")

LOCATIONS = (("UK", "London"), ("FR", "Paris"))
DISTANCES = (("UK", "FR", 3),)
#: name -> (location, source); par-1 is lon-1's backup domain.
DOMAINS = {
    "lon-1": ("UK", "local"),
    "par-1": ("FR", "local"),
    "em-fr": ("FR", "emergency"),
}
BACKUPS = (("lon-1", "par-1", 1),)
#: (host, domain, build, node properties)
NODES = (
    ("compute-1", "lon-1", "hardened", {"gpu": "yes"}),
    ("compute-2", "lon-1", "hardened", {}),
    ("compute-3", "lon-1", "hardened", {}),
    ("compute-4", "par-1", "standard", {"ssd": "yes"}),
    ("compute-5", "par-1", "standard", {"gpu": "yes"}),
    ("compute-6", "em-fr", "standard", {}),
)
#: white-list name -> the node whose good state it is generated from
WHITELIST_SOURCES = {"compute": "compute-4", "hardened": "compute-1"}


@dataclasses.dataclass
class Node:
    name: str
    domain: str
    build: str
    properties: dict
    swtpm: object
    dir: Path

    def __post_init__(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.dir / "ascii_runtime_measurements"
        self.state_path = self.dir / "dcc-state"
        self.log = ima_build.LogBuilder(("sha1", "sha256"))
        self.log_path.write_text("")

    @property
    def files(self) -> dict[str, bytes]:
        if self.build == "hardened":
            return dict(BASE_FILES)
        return dict(BASE_FILES, **TOOL_FILES)

    def boot(self) -> None:
        """boot_aggregate from PCRs 0-9, then the build's files."""
        with TPMDevice(self.swtpm.tcti) as tpm:
            pcrs = tpm.pcr_read({"sha256": range(10), "sha1": range(10)})
        self._append(self.log.add_boot_aggregate(pcrs, "sha256"))
        for path, content in self.files.items():
            self.measure(path, content)

    def measure(self, path: str, content: bytes) -> None:
        """Measure a file as IMA does: list entry first, then extend."""
        self._append(self.log.add_file(path, content))

    def _append(self, line: str) -> None:
        with open(self.log_path, "a") as log:
            log.write(line + "\n")
        with TPMDevice(self.swtpm.tcti) as tpm:
            tpm.pcr_extend(10, {b: v[-1] for b, v in self.log.extends.items()})

    def good_state(self) -> tuple[Path, dict]:
        """The measurement list file and the PCR values (0-10) now."""
        with TPMDevice(self.swtpm.tcti) as tpm:
            pcrs = tpm.pcr_read({"sha256": range(11)})
        return self.log_path, pcrs

    def dcc_section(self) -> str:
        """This node's ``[dcc]`` options (appended to the common ones)."""
        return (
            "host = %s\ntcti = %s\nima_log_path = %s\nstate_path = %s\n"
            "domain = %s\nretry_interval = 0.5\nrpc_timeout = 10\n"
            % (
                self.name,
                self.swtpm.tcti,
                self.log_path,
                self.state_path,
                self.domain,
            )
        )
