"""``acaas-manage location``: locations and the distances between them."""

from acaas_nova.cmd import base
from acaas_nova.db import locations as locations_db


class LocationCommands(base.Commands):
    """Locations (sites) of physical-layer domains, and their distances."""

    help = "locations and distances (create, list, delete, distance)"

    @classmethod
    def add_actions(cls, actions) -> None:
        p = base.action(actions, cls, "create", "create a location")
        p.add_argument("name", metavar="NAME")
        p.add_argument("--description")
        base.action(actions, cls, "list", "list locations")
        p = base.action(
            actions, cls, "delete", "delete a location no domain uses"
        )
        p.add_argument("name", metavar="NAME")
        p = actions.add_parser(
            "distance", help="distances between locations (set, list)"
        )
        sub = p.add_subparsers(dest="distance_action", required=True)
        p = base.action(
            sub,
            cls,
            "distance_set",
            "set the symmetric distance between two locations",
            name="set",
        )
        p.add_argument("location_a", metavar="A")
        p.add_argument("location_b", metavar="B")
        p.add_argument("distance", metavar="N", type=base.integer)
        p = base.action(
            sub,
            cls,
            "distance_list",
            "list distances (all, or those of one location)",
            name="list",
        )
        p.add_argument("location", metavar="LOCATION", nargs="?")

    def create(self, args) -> None:
        loc = locations_db.location_create(
            self.context, args.name, args.description
        )
        self.out.done("Created location %s" % loc.name, loc)

    def list(self, args) -> None:
        self.out.rows(
            [("Name", "name"), ("Description", "description")],
            locations_db.location_list(self.context),
        )

    def delete(self, args) -> None:
        locations_db.location_delete(self.context, args.name)
        self.out.done(
            "Deleted location %s" % args.name, {"deleted": args.name}
        )

    def distance_set(self, args) -> None:
        d = locations_db.distance_set(
            self.context, args.location_a, args.location_b, args.distance
        )
        self.out.done(
            "Distance %s <-> %s is %d"
            % (d.location_a, d.location_b, d.distance),
            d,
        )

    def distance_list(self, args) -> None:
        self.out.rows(
            [
                ("A", "location_a"),
                ("B", "location_b"),
                ("Distance", "distance"),
            ],
            locations_db.distance_list(self.context, args.location),
        )
