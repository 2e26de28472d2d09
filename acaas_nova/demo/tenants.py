"""The tenants' servers and how to tell whether each landed where it may.

Two projects: ``bank`` (user alice) and ``shop`` (user bob).  Every
server asks for something different; the operator stored the bank's
specification ``gold`` (UK, hardened white-list).
"""

from acaas_nova.scheduler import explain as explain_mod
from acaas_nova.scheduler import matching

TENANTS = {"alice": "bank", "bob": "shop"}
GOLD = ("location=UK", "whitelist=hardened")
#: (server, user, flavor, hints), booted in this order.  compute-1 (UK,
#: GPU) ends with train-1 and web-2: web-2 can stay in lon-1, train-1
#: needs the only other GPU node, in the backup domain.
SERVERS = (
    (
        "train-1",
        "alice",
        "small",
        {
            "acaas:capability:gpu": "yes",
            "acaas:location": "UK",
            "acaas:max_distance": "3",
        },
    ),
    ("db-1", "alice", "medium", {"acaas:requirement": "gold"}),
    ("web-1", "alice", "medium", {"acaas:location": "UK"}),
    ("web-2", "alice", "medium", {"acaas:location": "UK"}),
    (
        "shop-db",
        "bob",
        "medium",
        {"acaas:isolation": "exclusive", "acaas:capability:ssd": "yes"},
    ),
    (
        "shop-web",
        "bob",
        "medium",
        {"acaas:exclude_projects": "bank", "acaas:capability:ssd": "yes"},
    ),
    ("batch-1", "alice", "medium", {}),
)
#: The server whose host is compromised.
VICTIM_OF = "train-1"
#: The server whose refusals are explained host by host.
EXPLAINED = "shop-db"


def describe(hints: dict) -> str:
    if not hints:
        return "(none)"
    return " ".join(
        "%s=%s" % (k.removeprefix("acaas:"), v) for k, v in hints.items()
    )


def policy(conf) -> matching.Policy:
    return matching.Policy(
        require_attestation=conf.acaas.require_attestation,
        attestation_ttl=float(conf.acaas.attestation_ttl),
    )


def explain(ctx, conf, user: str, hints: dict):
    """acaas-manage schedule explain's judgement of one request."""
    return explain_mod.explain(
        ctx,
        policy(conf),
        {k: [v] for k, v in hints.items()},
        {},
        TENANTS[user],
        user,
    )


def isolation_ok(hints: dict, project: str, host: str, placed) -> bool:
    """Whether the other servers on ``host`` respect the isolation hints
    (checked by the scheduler against nova's instances, not by explain)."""
    others = {p for (_n, p, h) in placed if h == host and p != project}
    excluded = set(hints.get("acaas:exclude_projects", "").split(",")) - {""}
    if excluded & others:
        return False
    if hints.get("acaas:isolation") == "exclusive" and others:
        return False
    return True


def placed_ok(ctx, conf, server: dict, placed) -> tuple[bool, str]:
    """(ok, why) for one booted server (``placed``: (name, project, host)
    of every server)."""
    if server["status"] != "ACTIVE":
        result = explain(ctx, conf, server["user"], server["hints"])
        return False, "status %s (%s); schedule explain now: %s" % (
            server["status"],
            server["fault"],
            "; ".join("%s: %s" % (v.host, v.verdict) for v in result.hosts),
        )
    result = explain(ctx, conf, server["user"], server["hints"])
    if server["host"] not in result.preferred:
        verdicts = {v.host: v.verdict for v in result.hosts}
        return False, verdicts.get(server["host"], "host unknown")
    project = TENANTS[server["user"]]
    if not isolation_ok(server["hints"], project, server["host"], placed):
        return False, "isolation violated"
    return True, "ok"
