"""Carry out planned moves: bounded concurrency, retries, reconciliation.

Every move is a ``migrate`` row of :mod:`acaas_nova.db.compliance` before
nova hears of it.  :meth:`Executor.advance` first reconciles the running
rows with what nova reports (moved: done; back idle on its source or in
ERROR: a failed attempt, retried with backoff until ``max_attempts``, then
stuck), then starts pending rows while the global and per-source-host
limits allow.  A row is marked running (a compare-and-set on its state)
*before* nova is asked, so a DC-S that dies in between finds a running
row on restart and reconciles it: a server is never migrated twice at
once, and a move is never forgotten.
"""

import datetime
import logging

from acaas_nova import exception
from acaas_nova.db import compliance as compliance_db
from dc_agents.compliance import cloud as cloud_mod
from dc_agents.compliance import events
from dc_agents.dcs import eventlog

LOG = logging.getLogger(__name__)


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Executor:
    def __init__(self, conf, cloud: cloud_mod.Cloud, context) -> None:
        self.opts = conf.compliance
        self.nova_opts = conf.nova
        self.cloud = cloud
        self.ctx = context

    # -- reconciliation ----------------------------------------------------

    def _failed(self, action, why: str) -> None:
        if action.attempts >= self.opts.max_attempts:
            compliance_db.action_update(
                self.ctx, action.id, "stuck", error=why
            )
            eventlog.record(
                self.ctx,
                action.subject,
                events.STUCK,
                "server %s could not be moved off %s after %d attempts: %s"
                % (action.subject, action.source_host, action.attempts, why),
            )
            return
        backoff = self.opts.retry_backoff * 2 ** max(action.attempts - 1, 0)
        compliance_db.action_update(
            self.ctx, action.id, "pending", error=why, retry_after=backoff
        )
        eventlog.record(
            self.ctx,
            action.subject,
            events.MOVE_FAILED,
            "move of server %s off %s failed (attempt %d, retry in %ds): %s"
            % (
                action.subject,
                action.source_host,
                action.attempts,
                backoff,
                why,
            ),
        )

    def reconcile(self) -> list:
        """Settle running moves; returns those still in flight."""
        in_flight = []
        timeout = datetime.timedelta(seconds=self.nova_opts.migration_timeout)
        for action in compliance_db.action_list(
            self.ctx, states=["running"], kind="migrate"
        ):
            server = self.cloud.server(action.subject)
            if server is None:
                compliance_db.action_update(
                    self.ctx, action.id, "cancelled", error="server deleted"
                )
                continue
            if server.status == "VERIFY_RESIZE":
                # A cold migration waits for confirmation on its new host.
                self.cloud.confirm_move(action.subject)
                in_flight.append(action)
                continue
            if server.host != action.source_host and not server.busy:
                compliance_db.action_update(
                    self.ctx,
                    action.id,
                    "done",
                    destination_host=server.host,
                )
                eventlog.record(
                    self.ctx,
                    action.subject,
                    events.MOVED,
                    "server %s moved from %s to %s (%s)"
                    % (
                        action.subject,
                        action.source_host,
                        server.host,
                        action.reason,
                    ),
                )
                continue
            started = action.updated_at or action.created_at
            if server.status == "ERROR":
                self._failed(action, "server went to ERROR")
            elif not server.busy:
                self._failed(action, "nova did not move it")
            elif started and _utcnow() - started > timeout:
                self._failed(action, "migration took too long")
            else:
                in_flight.append(action)
        return in_flight

    # -- starting moves ----------------------------------------------------

    def _start(self, action) -> None:
        live = self.nova_opts.live_migration
        try:
            self.cloud.migrate(action.subject, action.destination_host, live)
        except cloud_mod.MoveRefused as exc:
            if not (live and self.nova_opts.cold_migration_fallback):
                raise
            LOG.info(
                "Live migration of %s refused (%s); migrating cold",
                action.subject,
                exc,
            )
            self.cloud.migrate(action.subject, action.destination_host, False)

    def advance(self, breaker_open: bool = False) -> int:
        """Reconcile, then start what the limits allow; returns started."""
        in_flight = self.reconcile()
        if breaker_open:
            return 0
        per_host: dict[str, int] = {}
        for action in in_flight:
            per_host[action.source_host] = (
                per_host.get(action.source_host, 0) + 1
            )
        started = 0
        now = _utcnow()
        pending = compliance_db.action_list(
            self.ctx, states=["pending"], kind="migrate"
        )
        for action in reversed(pending):  # oldest first
            if len(in_flight) + started >= self.opts.max_concurrent_moves:
                break
            if action.next_attempt_at and action.next_attempt_at > now:
                continue
            if (
                per_host.get(action.source_host, 0)
                >= self.opts.max_moves_per_host
            ):
                continue
            try:
                action = compliance_db.action_update(
                    self.ctx,
                    action.id,
                    "running",
                    count_attempt=True,
                    expect_state="pending",
                )
            except exception.Conflict:
                continue  # another worker took it
            try:
                self._start(action)
            except cloud_mod.CloudError as exc:
                self._failed(action, exc.message)
                continue
            per_host[action.source_host] = (
                per_host.get(action.source_host, 0) + 1
            )
            started += 1
        return started
