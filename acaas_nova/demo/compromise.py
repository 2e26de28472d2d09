"""The end of the story: a node is compromised and emptied.

A file on no white-list is measured into the node's PCR 10 (its IMA list
grows, its TPM is extended, as the kernel does); DC-S's next attestation
finds it and marks the node untrusted; DC-S's compliance manager fences
the node (its nova-compute service is disabled through nova's API) and
live-migrates its servers, never forced, to a host of the same domain or,
when none has room for them, to the backup domain.
"""

import time

from acaas_nova import exception
from acaas_nova.db import compliance as compliance_db
from acaas_nova.demo import daemons as daemons_mod
from acaas_nova.demo import nodes as nodes_mod
from acaas_nova.demo import tenants
from acaas_nova.demo.story import wait_for

MOVE_TIMEOUT = 60.0


def choose_victim(story) -> str:
    """The node running the GPU training server (compute-1)."""
    host = next(
        s["host"] for s in story.servers if s["name"] == tenants.VICTIM_OF
    )
    if host is None:
        raise exception.DemoStepFailed(
            reason="%s is not running: no node to compromise"
            % tenants.VICTIM_OF
        )
    return host


def tamper(story) -> str:
    victim = choose_victim(story)
    screen = story.screen
    screen.step("%s is compromised" % victim)
    path, content = nodes_mod.ROOTKIT
    screen.note(
        "IMA measures %s into %s's PCR 10 (not on any white-list)"
        % (path, victim)
    )
    start = time.monotonic()
    story.nodes[victim].measure(path, content)
    wait_for(
        lambda: story.registrations()[victim].status == "untrusted",
        3 * daemons_mod.INTERVAL + 10,
        "%s untrusted" % victim,
        story.daemons.check_alive,
    )
    after = time.monotonic() - start
    limit = daemons_mod.INTERVAL + daemons_mod.DEADLINE
    screen.note(
        "DC-S marked %s untrusted after %.1f s (attestation interval %.0f s)"
        % (victim, after, daemons_mod.INTERVAL)
    )
    story.result["untrusted_after_s"] = "%.1f" % after
    if after > limit:
        story.fail(
            "%s turned untrusted after %.1f s, more than one attestation "
            "interval plus its deadline (%.0f s)" % (victim, after, limit)
        )
    return victim


def fence_and_move(story, victim: str) -> None:
    screen = story.screen
    screen.step(
        "The compliance manager fences %s and moves its servers" % victim
    )
    before = [s for s in story.servers if s["host"] == victim]
    cloud = story.cloud

    def emptied():
        status, _reason = cloud.compute_status(victim)
        open_moves = compliance_db.action_list(
            story.ctx, states=["pending", "running"], kind="migrate"
        )
        return (
            status == "disabled"
            and not open_moves
            and not any(cloud.host_of(s["id"]) == victim for s in before)
        )

    try:
        wait_for(emptied, MOVE_TIMEOUT, "%s fenced and emptied" % victim)
    except Exception as exc:  # noqa: BLE001 -- reported below, then failed
        story.fail(str(exc))
    status, reason = cloud.compute_status(victim)
    screen.note("nova-compute on %s: %s (%s)" % (victim, status, reason))
    moves = {
        a.subject: a
        for a in reversed(compliance_db.action_list(story.ctx, kind="migrate"))
    }
    rows, moved, left = [], 0, 0
    home = story.domain_of(victim)
    backups = {b for d, b, _p in nodes_mod.BACKUPS if d == home}
    for s in before:
        now = cloud.host_of(s["id"])
        move = moves.get(s["id"])
        moved += now != victim
        left += now == victim
        expected = {"same-domain": {home}, "backup": backups}
        if now != victim and (
            move is None
            or story.domain_of(now) not in expected.get(move.tier, ())
        ):
            story.fail(
                "%s moved to %s (%s), not by the same-domain or backup tier"
                % (s["name"], now, story.domain_of(now))
            )
        rows.append(
            (
                s["name"],
                "%s (%s)" % (victim, story.domain_of(victim)),
                "%s (%s)" % (now, story.domain_of(now)),
                move.tier if move else None,
                "live migration, %s" % move.state if move else "not moved",
            )
        )
    screen.table(["Server", "Before", "After", "Tier", "How"], rows)
    for action in compliance_db.action_list(story.ctx, states=["stuck"]):
        screen.note("stuck: %s: %s" % (action.subject, action.error))
    story.result["moved"] = moved
    story.result["left_on_bad"] = left
    if status != "disabled":
        story.fail("%s was not fenced" % victim)
    if not before or left:
        story.fail("%d of %d servers left on %s" % (left, len(before), victim))
