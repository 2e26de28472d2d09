"""``acaas-manage domain``: physical-layer domains, backups and members."""

from acaas_nova import exception
from acaas_nova.cmd import base
from acaas_nova.cmd import output
from acaas_nova.db import compliance as compliance_db
from acaas_nova.db import domains as domains_db
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import records

_LIST_COLUMNS = [
    ("Name", "name"),
    ("Location", "location"),
    ("Source", "source"),
    ("Capabilities", "capabilities"),
    ("Backups", "backup_names"),
    ("Hosts", "hosts"),
]
_SHOW_FIELDS = [
    ("Name", "name"),
    ("Location", "location"),
    ("Source", "source"),
    ("Description", "description"),
    ("Capabilities", "capabilities"),
    ("Backups", "backup_names"),
    ("Hosts", "hosts"),
    ("DCoT", "dcot"),
    ("DCoT computed at", "dcot_computed_at"),
    ("CDCoT", "cdcot"),
]


def _view(domain: records.Domain) -> dict:
    """The record as a dict, plus backups readable in one table cell."""
    view = output.plain(domain)
    view["backup_names"] = [
        "%s (priority %d)" % (b.backup, b.priority) for b in domain.backups
    ]
    return view


class DomainCommands(base.Commands):
    """Physical-layer domains: capabilities, backups and member hosts."""

    help = (
        "physical-layer domains (create, list, show, update, delete, "
        "backup, host)"
    )

    @classmethod
    def add_actions(cls, actions) -> None:
        p = base.action(actions, cls, "create", "create a domain")
        p.add_argument("name", metavar="NAME")
        p.add_argument("--location", required=True, metavar="LOCATION")
        p.add_argument(
            "--source",
            choices=records.DOMAIN_SOURCES,
            default=records.SOURCE_LOCAL,
            help="local, or emergency (a federated domain)",
        )
        p.add_argument(
            "--capability",
            action="extend",
            nargs="+",
            default=[],
            metavar="KEY=VALUE",
        )
        p.add_argument("--description")
        base.action(actions, cls, "list", "list domains")
        p = base.action(actions, cls, "show", "show one domain")
        p.add_argument("name", metavar="NAME")
        p = base.action(actions, cls, "update", "change a domain")
        p.add_argument("name", metavar="NAME")
        p.add_argument(
            "--set-capability",
            action="extend",
            nargs="+",
            default=[],
            metavar="KEY=VALUE",
        )
        p.add_argument(
            "--unset-capability",
            action="extend",
            nargs="+",
            default=[],
            metavar="KEY",
        )
        p.add_argument("--location", metavar="LOCATION")
        p.add_argument("--source", choices=records.DOMAIN_SOURCES)
        p.add_argument("--description")
        p = base.action(
            actions, cls, "delete", "delete a domain that has no hosts"
        )
        p.add_argument("name", metavar="NAME")
        cls._add_backup_actions(actions)
        cls._add_host_actions(actions)
        cls._add_maintenance_actions(actions)

    @classmethod
    def _add_maintenance_actions(cls, actions) -> None:
        sub = actions.add_parser(
            "maintenance",
            help="maintenance windows: drain a domain to its backups "
            "(start, stop)",
        ).add_subparsers(dest="maintenance_action", required=True)
        for method, name, text in (
            (
                "maintenance_start",
                "start",
                "start a maintenance window: new servers avoid the domain "
                "and its servers are moved to its backup domains by priority",
            ),
            (
                "maintenance_stop",
                "stop",
                "end a maintenance window (servers are not moved back)",
            ),
        ):
            p = base.action(sub, cls, method, text, name=name)
            p.add_argument("domain", metavar="DOMAIN")

    @classmethod
    def _add_backup_actions(cls, actions) -> None:
        sub = actions.add_parser(
            "backup", help="collaborating (backup) domains (add, remove, list)"
        ).add_subparsers(dest="backup_action", required=True)
        p = base.action(
            sub, cls, "backup_add", "add a backup domain", name="add"
        )
        p.add_argument("domain", metavar="DOMAIN")
        p.add_argument("backup", metavar="BACKUP")
        p.add_argument(
            "--priority", type=base.integer, required=True, metavar="N"
        )
        p = base.action(
            sub, cls, "backup_remove", "remove a backup domain", name="remove"
        )
        p.add_argument("domain", metavar="DOMAIN")
        p.add_argument("backup", metavar="BACKUP")
        p = base.action(
            sub, cls, "backup_list", "list a domain's backups", name="list"
        )
        p.add_argument("domain", metavar="DOMAIN")

    @classmethod
    def _add_host_actions(cls, actions) -> None:
        sub = actions.add_parser(
            "host", help="member hosts of a domain (add, remove)"
        ).add_subparsers(dest="host_action", required=True)
        for method, name, text in (
            ("host_add", "add", "put a registered host into a domain"),
            ("host_remove", "remove", "take a host out of a domain"),
        ):
            p = base.action(sub, cls, method, text, name=name)
            p.add_argument("domain", metavar="DOMAIN")
            p.add_argument(
                "host", metavar="HOST", help="host or host:hypervisor_hostname"
            )

    def create(self, args) -> None:
        domain = domains_db.domain_create(
            self.context,
            args.name,
            args.location,
            source=args.source,
            capabilities=base.parse_pairs(args.capability),
            description=args.description,
        )
        self.out.done("Created domain %s" % domain.name, domain)

    def list(self, args) -> None:
        self.out.rows(
            _LIST_COLUMNS,
            [_view(d) for d in domains_db.domain_list(self.context)],
        )

    def show(self, args) -> None:
        domain = domains_db.domain_get(self.context, args.name)
        self.out.show(_SHOW_FIELDS, _view(domain))

    def update(self, args) -> None:
        changes = (
            args.set_capability,
            args.unset_capability,
            args.location,
            args.source,
            args.description,
        )
        if not any(c for c in changes if c is not None):
            raise exception.Invalid(
                reason="nothing to update; give --set-capability, "
                "--unset-capability, --location, --source or --description"
            )
        domain = domains_db.domain_update(
            self.context,
            args.name,
            location=args.location,
            source=args.source,
            description=args.description,
            set_capabilities=base.parse_pairs(args.set_capability),
            unset_capabilities=args.unset_capability,
        )
        self.out.done("Updated domain %s" % domain.name, domain)

    def delete(self, args) -> None:
        domains_db.domain_delete(self.context, args.name)
        self.out.done("Deleted domain %s" % args.name, {"deleted": args.name})

    def backup_add(self, args) -> None:
        backup = domains_db.backup_add(
            self.context, args.domain, args.backup, args.priority
        )
        self.out.done(
            "Domain %s is backed up by %s (priority %d)"
            % (backup.domain, backup.backup, backup.priority),
            backup,
        )

    def backup_remove(self, args) -> None:
        domains_db.backup_remove(self.context, args.domain, args.backup)
        self.out.done(
            "Domain %s is no longer backed up by %s"
            % (args.domain, args.backup),
            {"domain": args.domain, "removed_backup": args.backup},
        )

    def backup_list(self, args) -> None:
        domain = domains_db.domain_get(self.context, args.domain)
        self.out.rows(
            [("Priority", "priority"), ("Backup", "backup")], domain.backups
        )

    def host_add(self, args) -> None:
        host, hypervisor = base.split_host(args.host)
        node = nodes_db.node_set_domain(
            self.context, host, hypervisor, args.domain
        )
        self.out.done(
            "Host %s is in domain %s" % (node.ident, args.domain), node
        )

    def host_remove(self, args) -> None:
        host, hypervisor = base.split_host(args.host)
        node = nodes_db.node_leave_domain(
            self.context, host, hypervisor, args.domain
        )
        self.out.done(
            "Host %s left domain %s" % (node.ident, args.domain), node
        )

    def maintenance_start(self, args) -> None:
        changed = compliance_db.maintenance_set(
            self.context, args.domain, True
        )
        self.out.done(
            "Domain %s is in maintenance: its servers will be drained to its "
            "backup domains" % args.domain
            if changed
            else "Domain %s was already in maintenance" % args.domain,
            {"domain": args.domain, "maintenance": True, "changed": changed},
        )

    def maintenance_stop(self, args) -> None:
        changed = compliance_db.maintenance_set(
            self.context, args.domain, False
        )
        self.out.done(
            "Maintenance of domain %s ended" % args.domain
            if changed
            else "Domain %s was not in maintenance" % args.domain,
            {"domain": args.domain, "maintenance": False, "changed": changed},
        )
