"""``acaas-manage requirement``: requirement entries and specifications.

Entries are the requirement types tenants may use; a specification is a
named set of values for a project (optionally one user) that a server
references by scheduler hint.
"""

from acaas_nova import exception
from acaas_nova import requirement_types
from acaas_nova.cmd import base
from acaas_nova.db import requirements as requirements_db

_SPEC_COLUMNS = [
    ("Name", "name"),
    ("Project", "project_id"),
    ("User", "user_id"),
    ("Values", "values"),
    ("Description", "description"),
]
_SPEC_FIELDS = [(header, key) for header, key in _SPEC_COLUMNS]


def _owner(p) -> None:
    p.add_argument("--project", required=True, metavar="PROJECT_ID")
    p.add_argument("--user", metavar="USER_ID")


class RequirementCommands(base.Commands):
    """Requirement entries and per-project requirement specifications."""

    help = "requirement entries and specifications (entry, spec)"

    @classmethod
    def add_actions(cls, actions) -> None:
        sub = actions.add_parser(
            "entry", help="requirement types (list, create)"
        ).add_subparsers(dest="entry_action", required=True)
        base.action(sub, cls, "entry_list", "list entries", name="list")
        p = base.action(
            sub, cls, "entry_create", "declare a new entry", name="create"
        )
        p.add_argument("name", metavar="NAME")
        p.add_argument(
            "--type",
            required=True,
            choices=requirement_types.VALUE_TYPES,
            dest="value_type",
        )
        p.add_argument("--description", required=True)
        cls._add_spec_actions(
            actions.add_parser(
                "spec",
                help="specifications (create, list, show, update, delete)",
            ).add_subparsers(dest="spec_action", required=True)
        )

    @classmethod
    def _add_spec_actions(cls, sub) -> None:
        p = base.action(
            sub, cls, "spec_create", "create a specification", name="create"
        )
        p.add_argument("name", metavar="NAME")
        _owner(p)
        p.add_argument("--description")
        p.add_argument("pairs", metavar="KEY=VALUE", nargs="+")
        p = base.action(
            sub, cls, "spec_list", "list specifications", name="list"
        )
        p.add_argument("--project", metavar="PROJECT_ID")
        p = base.action(
            sub,
            cls,
            "spec_show",
            "show a specification (the user's own, else the project's)",
            name="show",
        )
        p.add_argument("name", metavar="NAME")
        _owner(p)
        p = base.action(
            sub, cls, "spec_update", "change a specification", name="update"
        )
        p.add_argument("name", metavar="NAME")
        _owner(p)
        p.add_argument(
            "--set",
            action="extend",
            nargs="+",
            default=[],
            metavar="KEY=VALUE",
            dest="set_pairs",
        )
        p.add_argument(
            "--unset",
            action="extend",
            nargs="+",
            default=[],
            metavar="KEY",
            dest="unset_keys",
        )
        p.add_argument("--description")
        p = base.action(
            sub, cls, "spec_delete", "delete a specification", name="delete"
        )
        p.add_argument("name", metavar="NAME")
        _owner(p)

    def entry_list(self, args) -> None:
        self.out.rows(
            [
                ("Name", "name"),
                ("Type", "value_type"),
                ("Description", "description"),
            ],
            requirements_db.requirement_entry_list(self.context),
        )

    def entry_create(self, args) -> None:
        entry = requirements_db.requirement_entry_create(
            self.context, args.name, args.value_type, args.description
        )
        self.out.done("Created requirement entry %s" % entry.name, entry)

    def spec_create(self, args) -> None:
        spec = requirements_db.requirement_spec_create(
            self.context,
            args.project,
            args.name,
            base.parse_pairs(args.pairs),
            user_id=args.user,
            description=args.description,
        )
        self.out.done("Created requirement specification %s" % spec.name, spec)

    def spec_list(self, args) -> None:
        self.out.rows(
            _SPEC_COLUMNS,
            requirements_db.requirement_spec_list(self.context, args.project),
        )

    def spec_show(self, args) -> None:
        spec = requirements_db.requirement_spec_get(
            self.context, args.project, args.name, user_id=args.user
        )
        self.out.show(_SPEC_FIELDS, spec)

    def spec_update(self, args) -> None:
        if not (args.set_pairs or args.unset_keys or args.description):
            raise exception.Invalid(
                reason="nothing to update; give --set, --unset or "
                "--description"
            )
        spec = requirements_db.requirement_spec_update(
            self.context,
            args.project,
            args.name,
            set_values=base.parse_pairs(args.set_pairs),
            unset_keys=args.unset_keys,
            user_id=args.user,
            description=args.description,
        )
        self.out.done("Updated requirement specification %s" % spec.name, spec)

    def spec_delete(self, args) -> None:
        requirements_db.requirement_spec_delete(
            self.context, args.project, args.name, user_id=args.user
        )
        self.out.done(
            "Deleted requirement specification %s" % args.name,
            {
                "deleted": args.name,
                "project_id": args.project,
                "user_id": args.user,
            },
        )
