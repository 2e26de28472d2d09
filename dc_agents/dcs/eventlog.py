"""Record DC-S events in the event log (and the service log).

Every refusal and every change of a node's trust is an event with a stable
id and a severity (docs/daemons.rst lists them), so an operator can see
why a node was judged untrusted or a message refused.
"""

import logging

from acaas_nova import eventpolicy
from acaas_nova import exception
from acaas_nova.db import events as events_db
from dc_agents.dcs import dbwrite

LOG = logging.getLogger(__name__)

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
#: Event ids of DC-S's own events (errors carry theirs).
REGISTERED = ("ACAAS-DCS-020", "info")
AWAITING_APPROVAL = ("ACAAS-DCS-021", "warning")
TRUSTED = ("ACAAS-DCS-030", "info")
NO_ANSWER = ("ACAAS-DCS-031", "warning")
AGENT_ERROR = ("ACAAS-DCS-032", "warning")
PLATFORM_CHANGED = ("ACAAS-DCS-033", "critical")
#: An answer DC-S cannot take (larger than max_message_bytes, an IMA log
#: beyond max_ima_log_bytes or max_log_chunks): unknown, never untrusted.
TOO_LARGE = ("ACAAS-DCS-034", "warning")
JOINED_DOMAIN = ("ACAAS-DCS-041", "info")
DOMAIN_IGNORED = ("ACAAS-DCS-042", "warning")


_limiter = eventpolicy.RateLimiter(burst=10, rate=0.2)


def configure(conf) -> None:
    """Apply ``[events]`` burst and rate (called once by the daemon)."""
    global _limiter
    _limiter = eventpolicy.RateLimiter(conf.events.burst, conf.events.rate)


def record(context, subject: str, event: tuple[str, str], detail: str):
    """Append an event; returns its id (None if the database failed or
    the event was rate-limited).

    Subject and detail are cleaned into one bounded printable line first
    (they may carry text a node sent).
    """
    event_id, severity = event
    subject = eventpolicy.clean(subject, eventpolicy.SUBJECT_LIMIT)
    detail = eventpolicy.clean(detail, eventpolicy.DETAIL_LIMIT - 60)
    admitted, suppressed = _limiter.admit((subject, event_id))
    if not admitted:
        LOG.debug("Rate-limited event %s for %s", event_id, subject)
        return None
    if suppressed:
        detail += " (%d similar events suppressed)" % suppressed
    LOG.log(_LEVELS[severity], "%s %s: %s", event_id, subject, detail)
    try:
        with dbwrite.writing():
            return events_db.event_add(
                context, subject, event_id, severity, detail
            )
    except exception.DBError as exc:
        # Losing an event must not hide the decision that caused it.
        LOG.error(
            "Could not record event %s for %s: %s", event_id, subject, exc
        )
        return None


def record_error(context, subject: str, exc: exception.ACaaSException):
    """Record an error that carries ``event_id`` and ``severity``."""
    event = (
        getattr(exc, "event_id", "ACAAS-DCS-000"),
        getattr(exc, "severity", "error"),
    )
    return record(context, subject, event, exc.message)
