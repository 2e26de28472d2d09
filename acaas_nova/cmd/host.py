"""``acaas-manage host``: compute nodes as acaas-nova knows them.

A host is nova's identity of a compute node: the service host and, when a
host has several, the hypervisor hostname (``host:hypervisor_hostname``).

No first-come host names: DC-S attests a node only if an operator
declared it (``host add``, optionally bound to its EK with
``--ek-fingerprint``) or approved the registration its DC-C made under an
undeclared name (``host pending`` lists them, ``host approve`` or ``host
reject`` decides).
"""

import datetime

from acaas_nova import exception
from acaas_nova.cmd import base
from acaas_nova.cmd import output
from acaas_nova.db import domains as domains_db
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import pending as pending_db
from acaas_nova.db import records

_HOST_HELP = "host or host:hypervisor_hostname"
_COLUMNS = [
    ("Host", "host"),
    ("Hypervisor", "hypervisor_hostname"),
    ("Domain", "domain"),
    ("Location", "location"),
    ("Status", "status"),
    ("Attested", "attestation_age"),
    ("White-lists", "whitelists"),
]
_FIELDS = [
    ("Host", "host"),
    ("Hypervisor", "hypervisor_hostname"),
    ("Compute node UUID", "compute_node_uuid"),
    ("Domain", "domain"),
    ("Location", "location"),
    ("Properties", "properties"),
    ("Status", "status"),
    ("Last attested", "last_attested_at"),
    ("Attested", "attestation_age"),
    ("White-lists", "whitelists"),
    ("RCoT", "rcot"),
    ("Last failure", "last_failure"),
    ("CID", "cid"),
    ("AK name", "ak_name"),
    ("EK fingerprint", "ek_fingerprint"),
    ("Declared EK", "expected_ek_fingerprint"),
    ("TPM registered", "registered_at"),
]
_PENDING_COLUMNS = [
    ("Host", "host"),
    ("Hypervisor", "hypervisor_hostname"),
    ("EK fingerprint", "ek_fingerprint"),
    ("EK certificate subject", "ek_subject"),
    ("Issuer", "ek_issuer"),
    ("Age", "age"),
]
_FP_HELP = (
    "SHA-256 (hex) of the EK's SubjectPublicKeyInfo, as host show and host "
    "pending print it"
)


def age(when: datetime.datetime | None, now: datetime.datetime) -> str:
    """``"never"``, or how long ago ``when`` was (``"3m 20s ago"``)."""
    if when is None:
        return "never"
    seconds = max(0, int((now - when).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        "%d%s" % (n, unit)
        for n, unit in ((days, "d"), (hours, "h"), (minutes, "m"))
        if n
    ]
    if not days:
        parts.append("%ds" % seconds)
    return " ".join(parts[:2]) + " ago"


def _view(node: records.Node, locations: dict, now) -> dict:
    view = output.plain(node)
    view["location"] = locations.get(node.domain)
    view["attestation_age"] = age(node.last_attested_at, now)
    return view


class HostCommands(base.Commands):
    """Compute nodes: registration, domain, and trust state."""

    help = (
        "compute nodes (add, delete, list, show; pending, approve, reject "
        "registrations)"
    )

    @classmethod
    def add_actions(cls, actions) -> None:
        p = base.action(
            actions,
            cls,
            "add",
            "declare a compute node: its DC-C may then register",
        )
        p.add_argument("host", metavar="HOST", help=_HOST_HELP)
        p.add_argument(
            "--hypervisor",
            metavar="HYPERVISOR_HOSTNAME",
            help="default: the host name",
        )
        p.add_argument("--uuid", metavar="COMPUTE_NODE_UUID")
        p.add_argument("--domain", metavar="DOMAIN")
        p.add_argument(
            "--ek-fingerprint",
            metavar="FP",
            type=base.fingerprint,
            help="only the TPM of this EK may register the node ("
            + _FP_HELP
            + ")",
        )
        base.action(
            actions,
            cls,
            "pending",
            "list registrations under undeclared host names awaiting approval",
        )
        p = base.action(
            actions,
            cls,
            "approve",
            "approve a pending registration: declare the host, bound to "
            "that EK, and let DC-S attest it",
        )
        p.add_argument("host", metavar="HOST", help=_HOST_HELP)
        p.add_argument(
            "--ek-fingerprint",
            metavar="FP",
            type=base.fingerprint,
            help="the EK to approve, when several are pending for the "
            "host (" + _FP_HELP + ")",
        )
        p.add_argument(
            "--domain", metavar="DOMAIN", help="put the node in this domain"
        )
        p = base.action(
            actions, cls, "reject", "drop the pending registrations of a host"
        )
        p.add_argument("host", metavar="HOST", help=_HOST_HELP)
        p.add_argument(
            "--ek-fingerprint",
            metavar="FP",
            type=base.fingerprint,
            help="drop only this EK's (" + _FP_HELP + ")",
        )
        p = base.action(actions, cls, "delete", "forget a compute node")
        p.add_argument("host", metavar="HOST", help=_HOST_HELP)
        p = base.action(actions, cls, "list", "list compute nodes")
        p.add_argument("--domain", metavar="DOMAIN")
        p = base.action(
            actions,
            cls,
            "show",
            "show a node's domain, properties and attestation state",
        )
        p.add_argument("host", metavar="HOST", help=_HOST_HELP)

    def _locations(self) -> dict:
        return {
            d.name: d.location for d in domains_db.domain_list(self.context)
        }

    def add(self, args) -> None:
        host, hypervisor = base.split_host(args.host)
        if hypervisor and args.hypervisor and hypervisor != args.hypervisor:
            raise exception.Invalid(
                reason="hypervisor given twice (%s and --hypervisor %s)"
                % (args.host, args.hypervisor)
            )
        node = nodes_db.node_create(
            self.context,
            host,
            hypervisor or args.hypervisor,
            compute_node_uuid=args.uuid,
            domain=args.domain,
            expected_ek_fingerprint=args.ek_fingerprint,
        )
        bound = (
            " (only EK %s may register it)" % node.expected_ek_fingerprint
            if node.expected_ek_fingerprint
            else ""
        )
        self.out.done("Declared host %s%s" % (node.ident, bound), node)

    def pending(self, args) -> None:
        now = _now()
        self.out.rows(
            _PENDING_COLUMNS,
            [
                dict(output.plain(p), age=age(p.created_at, now))
                for p in pending_db.pending_list(self.context)
            ],
        )

    def approve(self, args) -> None:
        host, hypervisor = base.split_host(args.host)
        node, approved = pending_db.pending_approve(
            self.context,
            host,
            hypervisor,
            ek_fingerprint=args.ek_fingerprint,
            domain=args.domain,
        )
        self.out.done(
            "Approved host %s with EK fingerprint %s\n"
            "  EK certificate subject: %s\n"
            "  EK certificate issuer: %s\n"
            "DC-S attests it within about one attestation interval"
            % (
                node.ident,
                approved.ek_fingerprint,
                approved.ek_subject,
                approved.ek_issuer,
            ),
            {"node": node, "approved": approved},
        )

    def reject(self, args) -> None:
        host, hypervisor = base.split_host(args.host)
        dropped = pending_db.pending_reject(
            self.context, host, hypervisor, ek_fingerprint=args.ek_fingerprint
        )
        self.out.done(
            "Rejected %d pending registration(s) of host %s (EK %s)"
            % (
                len(dropped),
                args.host,
                ", ".join(p.ek_fingerprint for p in dropped),
            ),
            {"rejected": dropped},
        )

    def delete(self, args) -> None:
        host, hypervisor = base.split_host(args.host)
        nodes_db.node_delete(self.context, host, hypervisor)
        self.out.done("Deleted host %s" % args.host, {"deleted": args.host})

    def list(self, args) -> None:
        nodes = nodes_db.node_list(self.context, domain=args.domain)
        locations, now = self._locations(), _now()
        self.out.rows(_COLUMNS, [_view(n, locations, now) for n in nodes])

    def show(self, args) -> None:
        host, hypervisor = base.split_host(args.host)
        node = nodes_db.node_get(self.context, host, hypervisor)
        self.out.show(_FIELDS, _view(node, self._locations(), _now()))


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
