"""The demo's story, one phase per step; every step checks its outcome.

A step that cannot go on raises ``DemoStepFailed``; one that went on but
not as described is recorded with :meth:`Story.fail`.  Either makes the
demo exit non-zero, so it doubles as an end-to-end check.
"""

import time

import nova.conf

from acaas_nova import context as acaas_context
from acaas_nova import exception
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import events as events_db
from acaas_nova.demo import daemons as daemons_mod
from acaas_nova.demo import nodes as nodes_mod
from acaas_nova.demo import tables
from acaas_nova.demo import tenants
from acaas_nova.demo import world

CONF = nova.conf.CONF
ATTEST_TIMEOUT = 45.0


def wait_for(predicate, timeout: float, what: str, check=None):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if check is not None:
            check()
        if time.monotonic() > deadline:
            raise exception.DemoStepFailed(
                reason="%s not reached within %ds" % (what, timeout)
            )
        time.sleep(0.1)


class Story:
    def __init__(self, screen, cloud, daemons, tpms, base, loop_factory):
        self.screen = screen
        self.cloud = cloud
        self.daemons = daemons
        self.tpms = tpms
        self.base = base
        self.loop_factory = loop_factory
        self.ctx = acaas_context.get_admin_context()
        self.manage = world.Manage(screen, daemons.write("manage"))
        self.nodes = {}
        self.servers = []
        self.result = {"nodes": len(nodes_mod.NODES)}
        self.failures: list[str] = []

    def fail(self, reason: str) -> None:
        """Record a step that did not behave as described (the demo goes
        on, to show what happened, and exits non-zero)."""
        self.failures.append(reason)
        self.screen.note("FAILED: %s" % reason)

    # -- 1: infrastructure ---------------------------------------------------

    def infrastructure(self) -> None:
        self.screen.step("The operator describes the infrastructure")
        self.manage("db", "sync")
        world.describe_infrastructure(self.manage)
        # Every node is declared, in its domain, before its agent starts:
        # DC-S registers no host name an operator did not declare (an
        # undeclared one would await acaas-manage host approve).  The GPU
        # and SSD nodes get their properties.
        for name, domain, _build, props in nodes_mod.NODES:
            self.manage("host", "add", name, "--domain", domain)
            if props:
                pairs = ["%s=%s" % kv for kv in props.items()]
                self.manage("add_properties", name, *pairs)
        self.manage(
            "requirement",
            "spec",
            "create",
            "gold",
            "--project",
            "bank",
            *tenants.GOLD,
        )

    # -- 2: nodes and white-lists -----------------------------------------

    def boot_nodes(self) -> None:
        self.screen.step("Compute nodes boot; white-lists from good state")
        self.tpms.start()
        for name, domain, build, props in nodes_mod.NODES:
            node = nodes_mod.Node(
                name,
                domain,
                build,
                props,
                self.tpms.tpms[name],
                self.base / name,
            )
            node.boot()
            self.nodes[name] = node
        self.screen.table(
            ["Node", "Domain", "Location", "Software", "Measured", "EK cert"],
            [
                (
                    n.name,
                    n.domain,
                    tables.location_label(n.domain),
                    n.build,
                    "%d files" % (len(n.log) - 1),
                    "demo CA",
                )
                for n in self.nodes.values()
            ],
        )
        world.build_whitelists(self.manage, self.nodes, self.base)

    # -- 3: registration and attestation -------------------------------------

    def attest(self) -> None:
        d = self.daemons
        self.screen.step("DC-C agents register and attest")
        if d.in_process:
            self.screen.note(
                "DC-S and %d DC-C agents run as threads of this process, over "
                "oslo.messaging's" % len(self.nodes)
            )
            self.screen.note("in-process transport (fake://)")
        else:
            self.screen.note(
                "DC-S and %d DC-C agents run as acaas-dcs/acaas-dcc processes"
                " over %s" % (len(self.nodes), tables.public_url(d.url))
            )
        self.screen.note(
            "each sends its EK certificate (checked against the demo CA) "
            "and a new AK; DC-S"
        )
        self.screen.note(
            "answers with MakeCredential, the TPM's ActivateCredential "
            "proves the AK is its own;"
        )
        self.screen.note(
            "then DC-S attests every %.0f s (quote of PCRs 0-10 + IMA list)"
            % daemons_mod.INTERVAL
        )
        d.start_dcs()
        for node in self.nodes.values():
            d.start_dcc(node)

        def all_trusted():
            regs = self.registrations()
            return len(regs) == len(self.nodes) and all(
                r.status == "trusted" and r.domain == self.nodes[h].domain
                for h, r in regs.items()
            )

        try:
            wait_for(
                all_trusted, ATTEST_TIMEOUT, "all nodes trusted", d.check_alive
            )
        except exception.DemoStepFailed as exc:
            statuses = {h: r.status for h, r in self.registrations().items()}
            events = events_db.event_list(self.ctx, limit=3)
            raise exception.DemoStepFailed(
                reason="%s; status %s; last events: %s"
                % (
                    exc.kwargs["reason"],
                    statuses,
                    "; ".join(
                        "%s %s %s" % (e.subject, e.event_id, e.detail)
                        for e in events
                    ),
                )
            ) from None
        self.screen.table(
            ["Node", "Status", "Domain", "White-lists", "CID"],
            [
                (h, r.status, r.domain, ",".join(r.whitelists), r.cid[:12])
                for h, r in sorted(self.registrations().items())
            ],
        )
        # Started once every node is trusted: it fences any node that is
        # not (a node just registered is not trusted yet).
        self.loop = self.loop_factory()
        self.loop.start()
        self.screen.note(
            "DC-S's compliance loop starts, in this process (nova's API is "
            "in-process here):"
        )
        self.screen.note("it fences untrusted nodes and moves their servers")

    def registrations(self) -> dict:
        regs = {}
        for name in self.nodes:
            try:
                reg = attestation_db.registration_get(self.ctx, name)
            except exception.NotFound:  # not registered yet
                continue
            if reg.registered or reg.status != "unknown":
                regs[name] = reg
        return regs

    # -- 4: tenants boot servers ---------------------------------------------

    def boot_servers(self) -> None:
        self.screen.step("Tenants boot servers through nova's API")
        apis = {u: self.cloud.tenant(u, p) for u, p in tenants.TENANTS.items()}
        for name, user, flavor, hints in tenants.SERVERS:
            offset = self.cloud.log_offset()
            server = self.cloud.boot(apis[user], name, flavor, hints)
            fault = (server.get("fault") or {}).get("message")
            if server["status"] == "ERROR":
                # What the scheduler saw at the time, not only now.
                fault = "%s; at the time: logged %s; disabled computes %s" % (
                    fault,
                    self.cloud.errors_since(offset) or "no error",
                    self.cloud.disabled_computes() or "none",
                )
            self.servers.append(
                {
                    "name": name,
                    "user": user,
                    "hints": hints,
                    "id": server["id"],
                    "status": server["status"],
                    "host": server.get("OS-EXT-SRV-ATTR:host"),
                    "fault": fault,
                }
            )
        placed = [
            (s["name"], tenants.TENANTS[s["user"]], s["host"])
            for s in self.servers
        ]
        rows, ok = [], 0
        for s in self.servers:
            good, why = tenants.placed_ok(self.ctx, CONF, s, placed)
            ok += good
            rows.append(
                (
                    s["name"],
                    tenants.TENANTS[s["user"]],
                    tenants.describe(s["hints"]),
                    s["host"],
                    self.domain_of(s["host"]),
                    "yes" if good else "NO: " + why,
                )
            )
        self.screen.table(
            ["Server", "Project", "Requirements", "Host", "Domain", "OK"], rows
        )
        self.result["servers"] = len(self.servers)
        self.result["placed_ok"] = ok
        if ok != len(self.servers):
            self.fail(
                "%d of %d servers not placed as asked"
                % (len(self.servers) - ok, len(self.servers))
            )

    def domain_of(self, host):
        node = self.nodes.get(host)
        return node.domain if node else None

    # -- 5: why the other hosts were refused ---------------------------------

    def explain(self) -> None:
        server = next(
            s for s in self.servers if s["name"] == tenants.EXPLAINED
        )
        self.screen.step(
            "Why %s went to %s (acaas-manage schedule explain)"
            % (server["name"], server["host"])
        )
        hints = []
        for key, value in server["hints"].items():
            hints += ["--hint", "%s=%s" % (key, value)]
        user = server["user"]
        text = self.manage(
            "schedule",
            "explain",
            "--project",
            tenants.TENANTS[user],
            "--user",
            user,
            *hints,
        )
        for line in text.rstrip().splitlines():
            self.screen.note(line)
        result = tenants.explain(self.ctx, CONF, user, server["hints"])
        verdicts = {v.host: v.verdict for v in result.hosts}
        if verdicts.get(server["host"]) != "pass":
            self.fail(
                "schedule explain refuses %s's host %s: %s"
                % (
                    server["name"],
                    server["host"],
                    verdicts.get(server["host"]),
                )
            )
        refused = [v for v in result.hosts if v.host != server["host"]]
        if any(v.verdict == "pass" for v in refused):
            self.screen.note(
                "(hosts marked pass qualified too; the weigher preferred "
                "%s)" % server["host"]
            )
