"""The compliance loop in DC-S: leader only, traits of changed nodes, sweeps.

The database is real (every backend); the leader election, the manager
and placement are stand-ins that record calls (their real versions are
tested in test_dcs_coordination.py, test_compliance_manager.py and
test_compliance_nova.py).
"""

import datetime

import pytest

from acaas_nova import conf as acaas_conf
from acaas_nova.db import changes as changes_db
from acaas_nova.db import domains as domains_db
from acaas_nova.db import locations as locations_db
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import whitelists as whitelists_db
from dc_agents.compliance import errors
from dc_agents.compliance import loop as loop_mod
from dc_agents.compliance import manager as manager_mod
from tests.functional import manage_cli


class Coord:
    def __init__(self):
        self.leader = True

    def leads(self, role):
        assert role == "compliance"
        return self.leader


class Manager:
    def __init__(self):
        self.sweeps = 0

    def sweep(self):
        self.sweeps += 1
        return manager_mod.SweepReport([], [], [], False, None)


class Traits:
    def __init__(self):
        self.published = []
        self.fail = set()

    def publish(self, node, status, whitelists, domain, location):
        if node in self.fail:
            raise errors.Unreachable(service="placement", reason="down")
        self.published.append((node, status, whitelists, domain, location))


@pytest.fixture
def parts(migrated):
    conf, ctx = migrated
    acaas_conf.register_client_opts(conf)
    conf.set_override("sweep_interval", 60, group="compliance")
    locations_db.location_create(ctx, "UK")
    domains_db.domain_create(ctx, "d1", "UK")
    now = datetime.datetime.now(datetime.UTC)
    for host in ("h1", "h2"):
        nodes_db.node_create(ctx, host, host, domain="d1")
        nodes_db.node_set_trust(
            ctx, host, host, "trusted", whitelists=("gold",), attested_at=now
        )
    coord, manager, traits = Coord(), Manager(), Traits()
    loop = loop_mod.ComplianceLoop(conf, coord, manager, traits, ctx)
    return ctx, loop, coord, manager, traits


def test_leader_publishes_every_node_once_then_only_changes(parts):
    ctx, loop, coord, manager, traits = parts
    assert loop.round(now=0.0)
    assert sorted(p[0] for p in traits.published) == ["h1", "h2"]
    assert traits.published[0][1:] == ("trusted", ("gold",), "d1", "UK")
    loop.round(now=1.0)
    assert len(traits.published) == 2  # nothing changed
    nodes_db.node_set_trust(
        ctx,
        "h1",
        "h1",
        "untrusted",
        attested_at=datetime.datetime.now(datetime.UTC),
    )
    loop.round(now=2.0)
    assert traits.published[-1][:2] == ("h1", "untrusted")
    assert len(traits.published) == 3


def test_sweeps_follow_their_own_interval_or_a_trust_change(parts):
    ctx, loop, coord, manager, traits = parts
    for t in (0.0, 10.0, 59.0):
        loop.round(now=t)
    assert manager.sweeps == 1
    loop.round(now=61.0)
    assert manager.sweeps == 2
    nodes_db.node_set_trust(
        ctx,
        "h2",
        "h2",
        "untrusted",
        attested_at=datetime.datetime.now(datetime.UTC),
    )
    loop.round(now=62.0)  # at once, not at 121
    assert manager.sweeps == 3
    loop.round(now=63.0)
    assert manager.sweeps == 3


def test_a_requested_sweep_runs_at_the_leaders_next_round_once(parts):
    ctx, loop, coord, manager, traits = parts
    loop.round(now=0.0)
    assert manager.sweeps == 1
    changes_db.change_note(ctx, "instance.create.end: server x on h9")
    coord.leader = False
    loop.round(now=1.0)  # not the leader: the request waits for it
    assert manager.sweeps == 1
    coord.leader = True
    loop.round(now=2.0)
    assert manager.sweeps == 2
    loop.round(now=3.0)  # seen: not again
    assert manager.sweeps == 2


def test_only_the_leader_acts_and_a_new_leader_starts_over(parts):
    ctx, loop, coord, manager, traits = parts
    coord.leader = False
    assert not loop.round(now=0.0)
    assert traits.published == [] and manager.sweeps == 0
    coord.leader = True
    loop.round(now=1.0)
    coord.leader = False
    loop.round(now=2.0)
    coord.leader = True
    loop.round(now=3.0)
    # Leadership lost and regained: every node again, and a sweep at once.
    assert len(traits.published) == 4 and manager.sweeps == 2


def test_a_placement_failure_is_retried_next_round(parts):
    ctx, loop, coord, manager, traits = parts
    traits.fail = {"h2"}
    loop.round(now=0.0)
    assert [p[0] for p in traits.published] == ["h1"]
    traits.fail = set()
    loop.round(now=1.0)
    assert [p[0] for p in traits.published] == ["h1", "h2"]


def test_publishing_can_be_turned_off(parts):
    ctx, loop, coord, manager, traits = parts
    loop.conf.set_override("publish_traits", False, group="placement")
    loop.round(now=0.0)
    assert traits.published == [] and manager.sweeps == 1


@pytest.fixture
def operator(parts, tmp_path, capsys):
    """acaas-manage on the same database, plus what its changes act on."""
    ctx, loop, coord, manager, traits = parts
    locations_db.location_create(ctx, "FR")
    domains_db.domain_create(ctx, "d2", "UK")
    whitelists_db.whitelist_create(ctx, "gold", "1", "{}")
    url = loop.conf.acaas_database.connection
    return manage_cli.Cli(capsys, manage_cli.write_conf(tmp_path, url))


@pytest.mark.parametrize(
    "argv",
    [
        ("domain", "host", "add", "d2", "h1"),
        ("domain", "host", "remove", "d1", "h1"),
        ("domain", "update", "d1", "--location", "FR"),
        ("domain", "update", "d1", "--set-capability", "gpu=yes"),
        ("domain", "backup", "add", "d1", "d2", "--priority", "1"),
        ("domain", "maintenance", "start", "d1"),
        ("property", "add", "h1", "gpu=yes"),
        ("location", "distance", "set", "UK", "FR", "5"),
        ("whitelist", "delete", "gold"),
    ],
    ids=lambda argv: "-".join(argv[:3]),
)
def test_an_operator_change_triggers_a_sweep_at_once(parts, operator, argv):
    ctx, loop, coord, manager, traits = parts
    loop.round(now=0.0)
    loop.round(now=1.0)
    assert manager.sweeps == 1
    operator.ok(*argv)
    loop.round(now=2.0)  # at once, not at 60
    assert manager.sweeps == 2
    loop.round(now=3.0)
    assert manager.sweeps == 2
    assert changes_db.last(ctx)[1]  # names what changed


def test_reads_and_refused_changes_do_not_trigger(parts, operator):
    ctx, loop, coord, manager, traits = parts
    loop.round(now=0.0)
    operator.ok("domain", "list")
    operator.ok("whitelist", "list")
    # Refused (d1 has hosts; unknown white-list): nothing was written.
    operator.fails(2, "domain", "delete", "d1")
    operator.fails(2, "whitelist", "delete", "platinum")
    loop.round(now=1.0)
    assert manager.sweeps == 1


def test_chain_and_white_list_changes_trigger_without_a_status_change(
    parts,
):
    ctx, loop, coord, manager, traits = parts
    loop.round(now=0.0)
    # DC-S stores d1's DCoT: the chains a server may depend on changed.
    domains_db.domain_dcot_set(
        ctx, "d1", "d" * 64, "c" * 64, datetime.datetime.now()
    )
    loop.round(now=1.0)
    assert manager.sweeps == 2
    # h1 stays trusted but no longer satisfies gold (a white-list was
    # withdrawn and DC-S re-attested it).
    nodes_db.node_set_trust(
        ctx,
        "h1",
        "h1",
        "trusted",
        whitelists=("silver",),
        attested_at=datetime.datetime.now(datetime.UTC),
    )
    loop.round(now=2.0)
    assert manager.sweeps == 3
    loop.round(now=3.0)
    assert manager.sweeps == 3


def test_a_new_leader_sees_changes_made_while_it_was_not(parts, operator):
    ctx, loop, coord, manager, traits = parts
    loop.round(now=0.0)
    coord.leader = False
    loop.round(now=1.0)
    operator.ok("domain", "update", "d1", "--location", "FR")
    coord.leader = True
    loop.round(now=2.0)
    assert manager.sweeps == 2
