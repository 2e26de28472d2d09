"""oslo.messaging set-up shared by DC-S, DC-C and acaas-manage.

The transport is the standard ``[DEFAULT] transport_url`` of oslo.messaging
(RabbitMQ in production, ``fake://`` only in unit tests).  Our exceptions
may cross the wire as themselves, so a caller can tell a refused request
(``NotRegistered``, ``MalformedMessage`` ...) from a failure.
"""

import threading
import weakref

import oslo_messaging
from oslo_messaging._metrics import client as metrics_client

#: Modules whose exceptions are rebuilt on the calling side.
ALLOWED_EXMODS = (
    "acaas_nova.exception",
    "acaas_nova.attestation.errors",
    "dc_agents.errors",
)


def get_transport(conf, url: str | None = None):
    """The RPC transport of ``conf`` (``[DEFAULT] transport_url``), or of
    ``url`` if given (``fake://`` in unit tests)."""
    # oslo.messaging registers its metrics options on the global CONF
    # only, but its RPC client reads them from the ConfigOpts it is given;
    # our daemons own a private ConfigOpts.
    conf.register_opts(
        metrics_client.oslo_messaging_metrics, group="oslo_messaging_metrics"
    )
    transport = oslo_messaging.get_rpc_transport(
        conf, url=url, allowed_remote_exmods=list(ALLOWED_EXMODS)
    )
    _URLS[transport] = url
    return transport


#: RPC transport -> the URL it was opened with (None: from conf).
_URLS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
#: RPC transport -> its notification transport (round answers).
_NOTIFICATION: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def notification_transport(conf, transport):
    """The notification transport on the same broker as the RPC
    ``transport`` (round answers travel as notifications): opened with
    the same URL -- never ``[oslo_messaging_notifications]
    transport_url``, which may be nova's bus -- once per RPC transport,
    so a ``fake://`` transport's notifications reach its listeners."""
    with _LOCK:
        found = _NOTIFICATION.get(transport)
        if found is None:
            url = _URLS.get(transport)
            if url is None:
                # [DEFAULT] transport_url, as the RPC transport read it.
                url = oslo_messaging.TransportURL.parse(conf, None)
            found = _NOTIFICATION[transport] = (
                oslo_messaging.get_notification_transport(
                    conf, url=url, allowed_remote_exmods=list(ALLOWED_EXMODS)
                )
            )
    return found


def cleanup(transport) -> None:
    """Close ``transport`` and the notification transport opened for it."""
    with _LOCK:
        found = _NOTIFICATION.pop(transport, None)
    if found is not None:
        found.cleanup()
    transport.cleanup()


def server_name(host: str, hypervisor_hostname: str | None) -> str:
    """The RPC server name of a DC-C: its node identity.

    ``host`` alone when the hypervisor has the same name (one node per
    nova-compute, the usual case), ``host:hypervisor`` otherwise.
    """
    if not hypervisor_hostname or hypervisor_hostname == host:
        return host
    return "%s:%s" % (host, hypervisor_hostname)


def get_server(conf, transport, topic, server, endpoints):
    """An RPC server that dispatches only methods marked ``@expose``.

    The executor is oslo.messaging's default, the threading executor
    (eventlet is deprecated and never monkey-patched here).
    """
    target = oslo_messaging.Target(topic=topic, server=server)
    return oslo_messaging.get_rpc_server(
        transport,
        target,
        endpoints,
        access_policy=oslo_messaging.ExplicitRPCAccessPolicy,
    )


def remote_message(exc: Exception) -> str:
    """One line describing an RPC failure (no remote traceback)."""
    message = getattr(exc, "message", None)
    if isinstance(exc, oslo_messaging.RemoteError):
        message = "%s: %s" % (exc.exc_type, exc.value)
    text = str(message if message is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
