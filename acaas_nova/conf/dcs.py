"""Options of the ``[dcs]`` group: the DC-S server daemon (acaas-dcs).

DC-S registers compute nodes (Protocol 12.1), attests them periodically
(Protocol 12.2) and computes the domains' chains of trust.  The message
transport is oslo.messaging's standard ``[DEFAULT] transport_url`` (and
``control_exchange``), shared with DC-C; operator methods may have a
transport of their own (``operator_transport_url``).
"""

from oslo_config import cfg

from acaas_nova.conf import group

GROUP = cfg.OptGroup(
    "dcs",
    title="DC-S server options",
    help="The DC-S daemon (acaas-dcs): node registration, periodic "
    "attestation and domain chains of trust. DC-C agents read "
    "'topic' from this group to find DC-S.",
)

OPTS = [
    cfg.StrOpt(
        "topic",
        default="acaas-dcs",
        help="RPC topic DC-S listens on for DC-C agents (registration, "
        "platform changes). Each worker also takes round answers on "
        "<topic>.answers.<worker name> (notifications). Operator requests "
        "use operator_topic instead.",
    ),
    cfg.StrOpt(
        "operator_topic",
        default="acaas-dcs-admin",
        help="RPC topic of DC-S's operator methods (attest_host, "
        "domain_add_host): acaas-manage calls them here, and DC-S workers "
        "forward attest_host to each other here. Never served on the "
        "agents' topic; give it a broker vhost agents cannot publish to "
        "with operator_transport_url (docs/security.rst).",
    ),
    cfg.StrOpt(
        "operator_transport_url",
        secret=True,
        help="oslo.messaging transport URL of operator_topic, e.g. "
        "rabbit://acaas-dcs:PASSWORD@broker:5672/acaas-operator: a vhost "
        "whose permissions only DC-S's and the operators' RabbitMQ users "
        "have. Unset: DC-S serves no operator method at all (acaas-manage "
        "host attest refuses to run), unless "
        "operator_on_agent_transport is set.",
    ),
    cfg.BoolOpt(
        "operator_on_agent_transport",
        default=False,
        help="Serve the operator methods on [DEFAULT] transport_url when "
        "operator_transport_url is unset. INSECURE: any agent, or anyone "
        "holding the agents' broker credentials, can then call "
        "attest_host and domain_add_host. Only for single-host test "
        "clouds; DC-S logs a warning at start when it is used. Set it "
        "for acaas-manage too, so that host attest uses that transport.",
    ),
    cfg.FloatOpt(
        "attestation_interval",
        default=60.0,
        min=0.5,
        help="Seconds between two attestations of the same compute node "
        "(the chapter's per-node re-attestation timer). Keep it below "
        "[acaas] attestation_ttl, or the scheduler sees nodes as stale.",
    ),
    cfg.FloatOpt(
        "attestation_jitter",
        default=0.1,
        min=0.0,
        max=0.5,
        help="Random spread of each timer, as a fraction of "
        "attestation_interval (0.1: +/-10%). It keeps a thousand nodes "
        "registered at the same moment from being attested in lock-step.",
    ),
    cfg.FloatOpt(
        "attestation_deadline",
        default=30.0,
        min=0.1,
        help="Seconds DC-S waits for a DC-C's answer to an attestation "
        "request. A node that does not answer in time is marked 'unknown' "
        "(which the scheduler treats as not trusted).",
    ),
    cfg.IntOpt(
        "attestation_workers",
        default=8,
        min=1,
        help="Threads that open attestation rounds. One timer thread "
        "hands due partitions to them; opening a round costs one fanout "
        "message, so one or two serve thousands of nodes (answers are "
        "judged by one collecting thread).",
    ),
    cfg.IntOpt(
        "round_partitions",
        default=64,
        min=1,
        max=4096,
        help="Number of partitions compute nodes are divided into for "
        "attestation rounds (see docs/daemons.rst). A node's partition is "
        "a hash of its identity; DC-S attests one partition per round with "
        "one fanout message, and each DC-C listens to its partition's "
        "round topic only. DC-S and every DC-C must use the same value. "
        "More partitions make round messages smaller (each lists the IMA "
        "offsets of its nodes); a few hundred nodes per partition is "
        "reasonable.",
    ),
    cfg.ListOpt(
        "static_partitions",
        item_type=int,
        default=[],
        help="Partitions (0 .. round_partitions-1) this DC-S worker "
        "attests; empty: all of them. A static split for running several "
        "workers without a coordination backend (the load benchmark uses "
        "it); with a hash ring the ring decides instead.",
    ),
    cfg.StrOpt(
        "worker_name",
        help="Name of this DC-S worker, unique among the workers: answers "
        "to its rounds are sent to it (RPC server name) and bound into "
        "their nonces. Default: the host name and process id.",
    ),
    cfg.FloatOpt(
        "batch_write_interval",
        default=0.5,
        min=0.01,
        help="Seconds DC-S collects unchanged trusted outcomes (a node "
        "attested again with the same result) before writing their "
        "attestation times in one statement. Changes of status are "
        "written at once.",
    ),
    cfg.IntOpt(
        "answer_batch_size",
        default=200,
        min=1,
        help="Most round answers this worker takes from its answers "
        "topic (notifications, DC-S API 1.3) in one poll. Larger batches "
        "cost less per answer when many arrive at once.",
    ),
    cfg.FloatOpt(
        "answer_batch_timeout",
        default=0.05,
        min=0.001,
        max=1.0,
        help="Seconds a poll of the answers topic waits for a batch to "
        "fill before handing on what it has. An answer is stamped when "
        "its batch is handed on, so one may count as up to this much "
        "later than it arrived: keep it far below attestation_deadline.",
    ),
    cfg.StrOpt(
        "ek_ca_bundle",
        help="PEM file of the CA certificates (roots and intermediates) "
        "that may have issued compute nodes' EK certificates (TPM "
        "manufacturers' CAs). A node whose EK certificate does not chain "
        "to one of them cannot register. Required for registration.",
    ),
    cfg.StrOpt(
        "ca_path",
        default="/var/lib/acaas/dcs-ca",
        help="Directory of the DC-S certificate authority (the chapter's "
        "Privacy CA) that issues AK certificates: ca-cert.pem and "
        "ca-key.pem. A new self-signed CA is created there on first start "
        "when the files are missing; keep ca-key.pem readable only by DC-S.",
    ),
    cfg.IntOpt(
        "max_message_bytes",
        default=4 * 1024 * 1024,
        min=1024,
        help="Largest request or attestation answer DC-S accepts, in bytes "
        "(the JSON text of its arguments). Larger requests are refused "
        "(event ACAAS-DCS-002); a larger answer makes its node 'unknown' "
        "(event ACAAS-DCS-034), never 'untrusted'. An IMA measurement "
        "list longer than one answer arrives in chunks of at most [dcc] "
        "max_log_bytes each, so keep this above that value plus a few KB "
        "for the quote (the default is four times [dcc] max_log_bytes' "
        "default: JSON escapes each newline as two bytes and non-ASCII "
        "bytes as up to six). RabbitMQ refuses messages above its own "
        "max_message_size (128 MiB by default in RabbitMQ 3.8 to 3.13, "
        "16 MiB in 4.x); keep this below it.",
    ),
    cfg.IntOpt(
        "max_ima_log_bytes",
        default=64 * 1024 * 1024,
        min=1024,
        help="Most IMA measurement list text DC-S receives for one node "
        "in one attestation, in bytes, over all the chunks of a log too "
        "large for one answer. The chunks wait in DC-S's memory (never in "
        "the database) until the last one is verified; a node whose log "
        "exceeds this becomes 'unknown' (event ACAAS-DCS-034), never "
        "'untrusted'. A kernel's list has about 200 bytes per entry: the "
        "default holds some 300,000 entries. Every node whose whole log "
        "is asked for at once (after a white-list change) may hold this "
        "much memory while it is fetched.",
    ),
    cfg.IntOpt(
        "max_log_chunks",
        default=256,
        min=1,
        help="Most answers (chunks of the IMA measurement list) DC-S asks "
        "one node for in one attestation, each with a fresh nonce. A node "
        "that still has more to send after that many becomes 'unknown' "
        "(event ACAAS-DCS-034). With [dcc] max_log_bytes at its default, "
        "the default passes max_ima_log_bytes first.",
    ),
    cfg.FloatOpt(
        "registration_timeout",
        default=120.0,
        min=1.0,
        help="Seconds a registration challenge (MakeCredential) stays "
        "valid. A DC-C that does not activate it in time must start over.",
    ),
    cfg.IntOpt(
        "max_pending_registrations",
        default=1000,
        min=1,
        help="Registration challenges pending at once, in all (shared by "
        "every worker, in the database). Each node has at most one: a new "
        "registration replaces its earlier challenge. Beyond the limit a "
        "registration is refused (the agent retries), so a burst of "
        "registrations cannot fill the database.",
    ),
    cfg.IntOpt(
        "max_awaiting_approval",
        default=100,
        min=1,
        help="Registrations under host names no operator declared that "
        "DC-S keeps at once, in all, for an operator to approve "
        "(acaas-manage host pending / approve / reject). DC-S verifies "
        "such a registration (EK certificate, credential activation) but "
        "does not attest the node until it is approved; one is kept per "
        "(host, hypervisor, EK), a new one replacing the earlier. Beyond "
        "the limit further undeclared registrations are refused (event "
        "ACAAS-DCS-011), so agents under made-up names cannot fill the "
        "database.",
    ),
    cfg.IntOpt(
        "approval_timeout",
        default=86400,
        min=60,
        help="Seconds a registration awaiting approval is kept. After it "
        "the operator can no longer approve it; the DC-C, never attested "
        "meanwhile, registers again by itself (and waits anew).",
    ),
    cfg.StrOpt(
        "pcr_bank",
        default="sha256",
        choices=("sha256", "sha1"),
        help="PCR bank DC-S asks compute nodes to quote (PCRs 0-10) and "
        "replays their IMA measurement list in.",
    ),
]


def register_opts(conf):
    group.register(conf, GROUP, OPTS)


def list_opts():
    return {GROUP: OPTS}
