"""Options of the ``[dcc]`` group: the DC-C agent daemon (acaas-dcc).

DC-C runs on every compute node.  It identifies its node the way
nova-compute does (``host``, ``hypervisor_hostname``) so that DC-S records
map one to one to nova's compute nodes.
"""

import socket

from oslo_config import cfg

from acaas_nova.conf import group

GROUP = cfg.OptGroup(
    "dcc",
    title="DC-C agent options",
    help="The DC-C agent (acaas-dcc) on a compute node: its identity, its "
    "TPM, its IMA measurement list and its local state.",
)

OPTS = [
    cfg.HostAddressOpt(
        "host",
        default=socket.gethostname(),
        sample_default="<current_hostname>",
        help="Name of this compute node's nova-compute service: set it to "
        "the value of nova.conf's [DEFAULT] host on the same machine "
        "(both default to the machine's host name).",
    ),
    cfg.StrOpt(
        "hypervisor_hostname",
        help="Hypervisor host name of the compute node, as nova-compute "
        "reports it (the compute node record's hypervisor_hostname). "
        "Defaults to 'host', which is what the libvirt driver reports on "
        "most installations.",
    ),
    cfg.StrOpt(
        "topic",
        default="acaas-dcc",
        help="RPC topic DC-C agents listen on (each on its own server "
        "name, the node's identity). DC-S sends attestation requests to "
        "it; DC-S and every DC-C must use the same value.",
    ),
    cfg.StrOpt(
        "tcti",
        default="device:/dev/tpmrm0",
        help="TPM 2.0 TCTI of this node's TPM: 'device:/dev/tpmrm0' (the "
        "kernel resource manager) on hosts, 'swtpm:path=<socket>' for a "
        "software TPM.",
    ),
    cfg.StrOpt(
        "ima_log_path",
        default="/sys/kernel/security/ima/ascii_runtime_measurements",
        help="The kernel's IMA measurement list (ASCII). DC-C reads it "
        "from the entry DC-S last accepted and sends the new entries with "
        "each quote.",
    ),
    cfg.IntOpt(
        "max_log_bytes",
        default=1024 * 1024,
        min=256,
        help="Most IMA measurement list text DC-C sends with one quote, in "
        "bytes of complete lines. A longer list (a long-running node's "
        "first attestation holds all of it: tens of thousands of lines of "
        "about 200 bytes) is sent in chunks: the answer says more "
        "follows, and DC-S asks for the next entries with a new nonce "
        "until the last chunk. A single line longer than this is sent "
        "alone. Keep it well below [dcs] max_message_bytes (default 4 "
        "MiB, four times this default: the answer's JSON text escapes "
        "newlines and non-ASCII bytes and adds the quote), which is in "
        "turn below RabbitMQ's max_message_size.",
    ),
    cfg.StrOpt(
        "state_path",
        default="/var/lib/acaas/dcc",
        help="Directory for DC-C's registration state: the attestation "
        "key (wrapped by the TPM), the CID and AK certificate DC-S "
        "issued, and the channel secret sealed to PCRs 0-7.",
    ),
    cfg.StrOpt(
        "ek_type",
        default="rsa2048",
        choices=("rsa2048", "ecc256", "ecc384"),
        help="Which endorsement key (and EK certificate in the TPM's NV) "
        "to register with.",
    ),
    cfg.StrOpt(
        "ak_type",
        default="rsa2048",
        choices=("rsa2048", "rsa2048-pss", "ecc256", "ecc384"),
        help="Type and signing scheme of the attestation key DC-C creates "
        "under the EK at registration.",
    ),
    cfg.StrOpt(
        "domain",
        help="Physical domain this node believes it belongs to, stated in "
        "its quote answers. A node never decides its own domain: an "
        "operator does (acaas-manage host add --domain, host approve "
        "--domain, domain host add). DC-S only compares the two and, when "
        "they differ (or the operator assigned none), ignores this value "
        "and records event ACAAS-DCS-042. Unset: nothing is compared.",
    ),
    cfg.FloatOpt(
        "retry_interval",
        default=5.0,
        min=0.1,
        help="Seconds between two registration attempts while DC-S or "
        "the message broker cannot be reached.",
    ),
    cfg.FloatOpt(
        "rpc_timeout",
        default=30.0,
        min=0.1,
        help="Seconds DC-C waits for an answer of DC-S (registration).",
    ),
]


def register_opts(conf):
    group.register(conf, GROUP, OPTS)


def list_opts():
    return {GROUP: OPTS}
