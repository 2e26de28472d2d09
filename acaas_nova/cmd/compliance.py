"""``acaas-manage compliance``: what continuous compliance is doing.

``status`` shows the breaker, the fenced hosts, the actions in flight and
the instances that could not be moved; ``resume`` closes the breaker after
an operator has checked why it opened (e.g. a bad white-list push), so the
compliance manager starts moving servers again.
"""

from acaas_nova.cmd import base
from acaas_nova.db import compliance as compliance_db
from acaas_nova.db import records

_ACTION_COLUMNS = [
    ("Id", "id"),
    ("Kind", "kind"),
    ("Subject", "subject"),
    ("State", "state"),
    ("From", "source_host"),
    ("To", "destination_host"),
    ("Tier", "tier"),
    ("Attempts", "attempts"),
    ("Reason", "reason"),
    ("Error", "error"),
]
#: Finished actions shown by ``status`` besides those in flight.
RECENT = 20


class ComplianceCommands(base.Commands):
    """The state of continuous compliance, and the breaker."""

    help = "continuous compliance (status, sweep, pause, resume)"

    @staticmethod
    def cloud_factory(conf):
        """nova and placement over HTTP, with the [nova] and [placement]
        service credentials of the configuration (tests replace it)."""
        from dc_agents.compliance import compute
        from dc_agents.compliance import nova_cloud
        from dc_agents.compliance import traits

        return nova_cloud.NovaCloud(
            compute.NovaCompute.from_conf(conf),
            traits.PlacementTraits.from_conf(conf),
        )

    @classmethod
    def add_actions(cls, actions) -> None:
        p = base.action(
            actions,
            cls,
            "status",
            "breaker state, fenced hosts, actions in flight, stuck instances",
        )
        p.add_argument(
            "--all",
            action="store_true",
            help="list every recorded action, not only the open and stuck "
            "ones and the %d most recent" % RECENT,
        )
        base.action(
            actions,
            cls,
            "resume",
            "close the breaker: let the compliance manager move servers again",
        )
        p = base.action(
            actions,
            cls,
            "sweep",
            "re-check every server now: fence, plan and start moves (with "
            "--dry-run: only print the plan)",
        )
        p.add_argument(
            "--dry-run",
            action="store_true",
            help="print instance, from, to, tier and why; change nothing",
        )
        p = base.action(
            actions,
            cls,
            "pause",
            "open the breaker by hand: no new server moves (fencing goes on)",
        )
        p.add_argument("--reason", default="paused by an operator")

    def status(self, args) -> None:
        ctx = self.context
        flag = compliance_db.flag_get(ctx, compliance_db.BREAKER)
        breaker = {
            "state": flag[0] if flag else compliance_db.BREAKER_CLOSED,
            "reason": flag[1] if flag else None,
            "since": flag[2] if flag else None,
        }
        if args.all:
            actions = compliance_db.action_list(ctx)
        else:
            wanted = records.ACTION_OPEN_STATES + ("stuck",)
            actions = compliance_db.action_list(ctx, states=wanted)
            seen = {a.id for a in actions}
            actions += [
                a
                for a in compliance_db.action_list(ctx, limit=RECENT)
                if a.id not in seen
            ]
        data = {
            "breaker": breaker,
            "fenced_hosts": compliance_db.fenced_hosts(ctx),
            "maintenance": sorted(compliance_db.maintenance_domains(ctx)),
            "actions": actions,
        }
        if self.out.fmt == "json":
            self.out.done("", data)
            return
        self.out.show(
            [
                ("Breaker", "state"),
                ("Breaker reason", "reason"),
                ("Breaker since", "since"),
                ("Fenced hosts", "fenced_hosts"),
                ("Domains in maintenance", "maintenance"),
                ("Open actions", "open"),
                ("Stuck instances", "stuck"),
            ],
            {
                **breaker,
                "fenced_hosts": data["fenced_hosts"],
                "maintenance": data["maintenance"],
                "open": sum(a.is_open for a in actions),
                "stuck": sorted(
                    a.subject for a in actions if a.state == "stuck"
                ),
            },
        )
        self.out.rows(_ACTION_COLUMNS, actions)

    def resume(self, args) -> None:
        was_open = compliance_db.breaker_open(self.context)
        compliance_db.flag_set(
            self.context,
            compliance_db.BREAKER,
            compliance_db.BREAKER_CLOSED,
            "resumed by an operator",
        )
        self.out.done(
            "Breaker closed: servers will be moved again"
            if was_open
            else "Breaker was not open; nothing to resume",
            {"breaker": compliance_db.BREAKER_CLOSED, "was_open": was_open},
        )

    def pause(self, args) -> None:
        compliance_db.flag_set(
            self.context,
            compliance_db.BREAKER,
            compliance_db.BREAKER_OPEN,
            args.reason,
        )
        self.out.done(
            "Breaker open: no server will be moved until 'acaas-manage "
            "compliance resume'",
            {"breaker": compliance_db.BREAKER_OPEN, "reason": args.reason},
        )

    def sweep(self, args) -> None:
        from dc_agents.compliance import manager as manager_mod

        manager = manager_mod.ComplianceManager(
            self.conf, self.cloud_factory(self.conf), self.context
        )
        report = manager.sweep(dry_run=args.dry_run)
        plan = report.plan
        rows = []
        if plan is not None:
            rows = [
                {
                    "instance": m.instance_uuid,
                    "from": m.source[0],
                    "to": m.destination[0],
                    "tier": "%s (%s)" % (m.tier, m.domain),
                    "why": m.reason,
                }
                for m in plan.moves
            ] + [
                {
                    "instance": st.instance_uuid,
                    "from": st.source[0],
                    "to": None,
                    "tier": "stays",
                    "why": "%s; %s"
                    % (
                        st.reason,
                        "; ".join("%s: %s" % pair for pair in st.tried),
                    ),
                }
                for st in plan.stuck
            ]
        if self.out.fmt == "json":
            self.out.done(
                "",
                {
                    "dry_run": args.dry_run,
                    "bad_hosts": report.bad_hosts,
                    "fenced": report.fenced,
                    "unfenced": report.unfenced,
                    "breaker_open": report.breaker_open,
                    "started": report.started,
                    "plan": rows,
                },
            )
            return
        self.out.text(
            "%s: %d bad host(s), fenced %s, unfenced %s%s"
            % (
                "Plan (dry run, nothing changed)" if args.dry_run else "Sweep",
                len(report.bad_hosts),
                ",".join(report.fenced) or "none",
                ",".join(report.unfenced) or "none",
                "; breaker open: no moves" if report.breaker_open else "",
            )
        )
        self.out.rows(
            [
                ("Instance", "instance"),
                ("From", "from"),
                ("To", "to"),
                ("Tier", "tier"),
                ("Why", "why"),
            ],
            rows,
        )
