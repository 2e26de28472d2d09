"""``acaas-manage schedule explain``: why a request would fail, per host."""

from acaas_nova.cmd import base
from acaas_nova.scheduler import explain as explain_mod
from acaas_nova.scheduler import matching


class ScheduleCommands(base.Commands):
    """Ask the ACaaS scheduler's rules about a request."""

    help = "scheduling diagnostics (explain)"

    @classmethod
    def add_actions(cls, actions) -> None:
        p = base.action(
            actions,
            cls,
            "explain",
            "print, for every host, pass or why the ACaaS filter rejects "
            "a request with these hints and flavor extra specs",
        )
        p.add_argument(
            "--hint",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a scheduler hint, e.g. acaas:location=UK (repeatable; a "
            "repeated key gives a list, as nova's API does)",
        )
        p.add_argument(
            "--flavor-spec",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a flavor extra spec, e.g. acaas:allow_emergency=false",
        )
        p.add_argument(
            "--project",
            help="project whose stored requirement specifications "
            "acaas:requirement refers to",
        )
        p.add_argument("--user", help="user (for per-user specifications)")

    def explain(self, args) -> None:
        hints = explain_mod.parse_hints(args.hint)
        specs = base.parse_pairs(args.flavor_spec, "flavor spec")
        policy = matching.Policy(
            require_attestation=self.conf.acaas.require_attestation,
            attestation_ttl=float(self.conf.acaas.attestation_ttl),
        )
        result = explain_mod.explain(
            self.context, policy, hints, specs, args.project, args.user
        )
        if self.out.fmt == "json":
            self.out.done("", result)
            return
        self.out.text("Requirements: %s" % result.requirements)
        if result.error:
            self.out.text("Request refused: %s" % result.error)
        self.out.rows(
            [
                ("Host", "host"),
                ("Domain", "domain"),
                ("Location", "location"),
                ("Status", "status"),
                ("Verdict", "verdict"),
            ],
            result.hosts,
        )
        if result.preferred:
            self.out.text("Preferred order: %s" % ", ".join(result.preferred))
        elif not result.error:
            self.out.text("No host qualifies: the server would go to ERROR")
        if result.isolation_note:
            self.out.text("Note: %s" % result.isolation_note)
