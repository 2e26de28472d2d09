"""``acaas-manage property``: free-form properties of a compute node.

The chapter's operations ``add_properties``, ``get_properties`` and
``remove_properties`` are the same actions under their original names
(``acaas-manage add_properties HOST key=value``).
"""

from acaas_nova.cmd import base
from acaas_nova.db import nodes as nodes_db

_HOST_HELP = "host or host:hypervisor_hostname"


class PropertyCommands(base.Commands):
    """Key/value properties of compute nodes."""

    help = "properties of a compute node (add, get, remove)"

    @classmethod
    def add_actions(cls, actions) -> None:
        cls._wire(actions, {})

    @classmethod
    def add_aliases(cls, categories) -> None:
        """Wire the chapter's names as top-level commands."""
        cls._wire(
            categories,
            {
                "add": "add_properties",
                "get": "get_properties",
                "remove": "remove_properties",
            },
        )

    @classmethod
    def _wire(cls, actions, names) -> None:
        p = base.action(
            actions,
            cls,
            "add",
            "set (add or replace) properties of a host",
            name=names.get("add"),
        )
        p.add_argument("host", metavar="HOST", help=_HOST_HELP)
        p.add_argument("pairs", metavar="KEY=VALUE", nargs="+")
        p = base.action(
            actions,
            cls,
            "get",
            "show a host's properties",
            name=names.get("get"),
        )
        p.add_argument("host", metavar="HOST", help=_HOST_HELP)
        p = base.action(
            actions,
            cls,
            "remove",
            "remove properties of a host (all named keys, or none)",
            name=names.get("remove"),
        )
        p.add_argument("host", metavar="HOST", help=_HOST_HELP)
        p.add_argument("keys", metavar="KEY", nargs="+")

    def add(self, args) -> None:
        host, hypervisor = base.split_host(args.host)
        props = nodes_db.properties_set(
            self.context, host, hypervisor, base.parse_pairs(args.pairs)
        )
        self.out.done(
            "Host %s has %d propert%s"
            % (args.host, len(props), "y" if len(props) == 1 else "ies"),
            props,
        )

    def get(self, args) -> None:
        host, hypervisor = base.split_host(args.host)
        props = nodes_db.property_get(self.context, host, hypervisor)
        if self.out.fmt == "json":
            return self.out.done("", props)
        self.out.rows(
            [("Key", "key"), ("Value", "value")],
            [{"key": k, "value": v} for k, v in sorted(props.items())],
        )

    def remove(self, args) -> None:
        host, hypervisor = base.split_host(args.host)
        props = nodes_db.properties_remove(
            self.context, host, hypervisor, args.keys
        )
        self.out.done(
            "Removed %s from host %s" % (", ".join(args.keys), args.host),
            props,
        )
