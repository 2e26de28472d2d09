"""Fencing hosts and moving servers through nova's public API.

:class:`NovaCompute` is DC-S's only way into nova: openstacksdk over HTTP
with a keystoneauth session built from the ``[nova]`` group, never nova's
internals.

Microversion
    Every call is made at :data:`MICROVERSION` (2.80).  2.53 lets a service
    be updated by id with a ``disabled_reason``; 2.56 lets a cold migration
    name a target host; from 2.68 nova refuses ``force`` on a live
    migration outright, so a requested host is *always* checked by nova's
    scheduler and our filter; 2.80 lists migrations with their owner.
    Live migrations are asynchronous at this version: a destination the
    scheduler refuses leaves the server where it was and the migration in
    status ``error``, which :meth:`NovaCompute.wait_moved` reports.

Fencing
    ``fence`` disables the host's nova-compute service with the reason
    ``ACaaS: untrusted (event <id>)``; nothing lands on a disabled service,
    not even a boot that names the host.  ``unfence`` re-enables it only if
    the current reason is one of ours: a service an operator disabled stays
    disabled.
"""

import logging
import time

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from openstack import connection
from openstack import exceptions as sdk_exc

from acaas_nova import conf as acaas_conf
from dc_agents.compliance import errors
from dc_agents.compliance import nova_records as rec

LOG = logging.getLogger(__name__)

MICROVERSION = "2.80"
BINARY = "nova-compute"


def _translate(exc: Exception, what: str) -> errors.ClientError:
    """One-line error for a failed SDK/HTTP call (``what``: the attempt)."""
    if isinstance(exc, sdk_exc.HttpException):
        code = exc.status_code or 0
        detail = (exc.details or exc.message or "").strip().splitlines()
        reason = "%s: HTTP %s %s" % (what, code, detail[0] if detail else "")
        if code >= 500 or code == 0:
            return errors.Unreachable(service="nova", reason=reason.strip())
        return errors.ClientError(service="nova", reason=reason.strip())
    if isinstance(exc, (ks_exc.ClientException, sdk_exc.SDKException)):
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        return errors.Unreachable(
            service="nova", reason="%s: %s" % (what, lines[0])
        )
    raise exc


class NovaCompute:
    """nova's compute API for continuous compliance."""

    def __init__(self, conn: connection.Connection, conf_group):
        self._conn = conn
        self._compute = conn.compute
        self._opts = conf_group

    @classmethod
    def from_conf(cls, conf, session=None, group: str = "nova"):
        """Build the client from ``[nova]`` (``session``: tests, or reuse)."""
        acaas_conf.register_client_opts(conf)
        opts = conf[group]
        if session is None:
            auth = ks_loading.load_auth_from_conf_options(conf, group)
            session = ks_loading.load_session_from_conf_options(
                conf, group, auth=auth
            )
        conn = connection.Connection(
            session=session,
            compute_api_version=MICROVERSION,
            compute_service_type=opts.service_type,
            compute_interface=opts.valid_interfaces,
            compute_endpoint_override=opts.endpoint_override,
            region_name=opts.region_name,
        )
        return cls(conn, opts)

    # -- services -----------------------------------------------------------

    def _service(self, host: str):
        try:
            found = list(self._compute.services(host=host, binary=BINARY))
        except Exception as exc:
            raise _translate(exc, "listing services of %s" % host) from None
        if not found:
            raise errors.ServiceNotFound(host=host)
        return found[0]

    @staticmethod
    def _state(service) -> rec.ServiceState:
        return rec.ServiceState(
            host=service.host,
            service_id=service.id,
            status=service.status,
            disabled_reason=service.disabled_reason,
            state=service.state,
        )

    def service_state(self, host: str) -> rec.ServiceState:
        return self._state(self._service(host))

    def _update(self, service, what: str, **attrs) -> rec.ServiceState:
        try:
            updated = self._compute.update_service(service, **attrs)
        except Exception as exc:
            raise _translate(exc, what) from None
        return self._state(updated)

    def fence(self, host: str, event_id: str) -> rec.ServiceState:
        """Disable ``host``'s nova-compute so nothing more lands there.

        A service already disabled is left as it is (an operator's reason
        is never overwritten; nothing lands there either way).
        """
        service = self._service(host)
        if service.status == "disabled":
            LOG.info(
                "Host %(host)s already disabled (%(reason)s)",
                {"host": host, "reason": service.disabled_reason},
            )
            return self._state(service)
        LOG.warning(
            "Fencing host %(host)s (event %(event)s)",
            {"host": host, "event": event_id},
        )
        return self._update(
            service,
            "disabling %s" % host,
            status="disabled",
            disabled_reason=rec.fence_reason(event_id),
        )

    def unfence(self, host: str) -> bool:
        """Re-enable ``host`` if ACaaS disabled it; True when it did."""
        service = self._service(host)
        if service.status != "disabled":
            return False
        if not rec.is_our_reason(service.disabled_reason):
            LOG.info(
                "Not re-enabling host %(host)s: disabled by someone else "
                "(%(reason)s)",
                {"host": host, "reason": service.disabled_reason},
            )
            return False
        LOG.warning("Unfencing host %s", host)
        self._update(service, "enabling %s" % host, status="enabled")
        return True

    # -- servers ------------------------------------------------------------

    @staticmethod
    def _server(s) -> rec.Server:
        flavor = s.flavor
        return rec.Server(
            uuid=s.id,
            name=s.name,
            host=s.compute_host,
            node=s.hypervisor_hostname,
            user_id=s.user_id,
            project_id=s.project_id,
            status=s.status,
            task_state=s.task_state,
            vcpus=int(flavor.vcpus or 0),
            ram=int(flavor.ram or 0),
            disk=int(flavor.disk or 0),
            extra_specs=dict(flavor.extra_specs or {}),
        )

    def servers_on(
        self, host: str, node: str | None = None
    ) -> list[rec.Server]:
        """Every server (all projects) on ``host`` (and ``node``)."""
        query = {"all_projects": True, "compute_host": host}
        if node is not None:
            query["node"] = node
        try:
            found = [self._server(s) for s in self._compute.servers(**query)]
        except Exception as exc:
            raise _translate(exc, "listing servers on %s" % host) from None
        # Older filters match the host loosely; keep exact matches only.
        return [
            s
            for s in found
            if s.host == host and (node is None or s.node == node)
        ]

    def servers_all(self) -> list[rec.Server]:
        """Every server of the cloud (all projects), paged by the SDK."""
        try:
            return [
                self._server(s)
                for s in self._compute.servers(all_projects=True)
            ]
        except Exception as exc:
            raise _translate(exc, "listing all servers") from None

    def server(self, server_id: str) -> rec.Server:
        try:
            return self._server(self._compute.get_server(server_id))
        except Exception as exc:
            raise _translate(exc, "reading server %s" % server_id) from None

    def migrations(self, server_id: str) -> list[rec.Migration]:
        """nova's migration records of the server, newest first."""
        try:
            found = list(self._compute.migrations(instance_uuid=server_id))
        except Exception as exc:
            raise _translate(exc, "reading migrations") from None
        found.sort(key=lambda m: m.created_at or "", reverse=True)
        return [
            rec.Migration(
                migration_id=str(m.id),
                status=m.status,
                kind=m.migration_type,
                source=m.source_compute,
                dest=m.dest_compute,
            )
            for m in found
        ]

    def migration_status(self, server_id: str) -> rec.Migration | None:
        """The server's newest migration record, or None if it has none."""
        records = self.migrations(server_id)
        return records[0] if records else None

    # -- moves --------------------------------------------------------------

    def _action(self, server_id: str, kind: str, body: dict) -> None:
        url = "/servers/%s/action" % server_id
        try:
            response = self._compute.post(
                url, json=body, microversion=MICROVERSION
            )
            sdk_exc.raise_from_response(response)
        except sdk_exc.HttpException as exc:
            code = exc.status_code or 0
            detail = (exc.details or exc.message or "").strip().splitlines()
            reason = detail[0] if detail else "HTTP %s" % code
            if code in (400, 403, 409):
                raise errors.MigrationRefused(
                    kind=kind, server=server_id, reason=reason
                ) from None
            raise _translate(exc, "%s migration" % kind) from None
        except Exception as exc:
            raise _translate(exc, "%s migration" % kind) from None

    def live_migrate(self, server_id: str, host: str | None = None) -> None:
        """Start a live migration; nova's scheduler checks ``host``.

        ``force`` is never sent (nova refuses it at this microversion).
        """
        body = {"os-migrateLive": {"host": host, "block_migration": "auto"}}
        self._action(server_id, rec.LIVE, body)

    def cold_migrate(self, server_id: str, host: str | None = None) -> None:
        """Start a cold migration; nova's scheduler checks ``host``."""
        body = {"migrate": {"host": host} if host else None}
        self._action(server_id, rec.COLD, body)

    def confirm(self, server_id: str) -> None:
        """Confirm a cold migration waiting in VERIFY_RESIZE."""
        try:
            self._compute.confirm_server_resize(server_id)
        except Exception as exc:
            raise _translate(exc, "confirming %s" % server_id) from None

    def wait_moved(
        self, server_id: str, source: str, kind: str, timeout=None
    ) -> rec.Server:
        """Wait until the migration of the server off ``source`` ends.

        A cold migration is confirmed here.  Raises MigrationFailed when
        the server is still on ``source`` once nova is done with it.
        """
        timeout = self._opts.migration_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            current = self.server(server_id)
            if current.status == "VERIFY_RESIZE" and not current.task_state:
                # nova shows VERIFY_RESIZE a moment before it marks the
                # migration finished, and refuses a confirm until then.
                records = self.migrations(server_id)
                if records and records[0].status == "finished":
                    self.confirm(server_id)
            elif not current.task_state and current.status in (
                "ACTIVE",
                "SHUTOFF",
                "ERROR",
                "PAUSED",
            ):
                break
            if time.monotonic() > deadline:
                raise errors.MigrationTimedOut(
                    kind=kind,
                    server=server_id,
                    timeout=timeout,
                    status=current.status,
                    task_state=current.task_state,
                )
            time.sleep(self._opts.poll_interval)
        if current.host != source and current.status != "ERROR":
            return current
        reason = "still on %s (status %s)" % (current.host, current.status)
        last = self.migration_status(server_id)
        if last is not None:
            reason += ", last migration %s" % last.status
        raise errors.MigrationFailed(
            kind=kind, server=server_id, reason=reason
        )

    def move(self, server_id: str, source: str, host: str | None = None):
        """Move the server off ``source``; returns (kind, server).

        Live by default; cold when ``[nova] live_migration`` is false or,
        with ``cold_migration_fallback``, when the live one is refused or
        fails (a cold one to a host the scheduler refused fails as well).
        """
        if self._opts.live_migration:
            try:
                self.live_migrate(server_id, host)
                return rec.LIVE, self.wait_moved(server_id, source, rec.LIVE)
            except (errors.MigrationRefused, errors.MigrationFailed) as exc:
                # Refused up front (server state, hypervisor) or by the
                # destination's pre-checks once started.
                if not self._opts.cold_migration_fallback:
                    raise
                LOG.info("Live migration failed, migrating cold: %s", exc)
        self.cold_migrate(server_id, host)
        return rec.COLD, self.wait_moved(server_id, source, rec.COLD)
