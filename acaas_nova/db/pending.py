"""Registrations awaiting an operator's approval (no first-come names).

A node becomes attestable only under a host name an operator declared
(``acaas-manage host add``).  A DC-C that registers under a name nobody
declared is verified all the same (EK certificate, credential
activation), and what DC-S would have stored for it waits here: its EK's
fingerprint and certificate subject for the operator to check, its AK,
CID, AK certificate and channel key for DC-S to attest it with once
approved.  Approval (:func:`pending_approve`) turns the row into the
node's registration in one transaction; DC-S finds the newly registered
node within about one attestation interval.  One row per (host,
hypervisor, EK), at most ``limit`` rows in all, each expiring.
"""

import dataclasses
import datetime

import sqlalchemy as sa

from acaas_nova import exception
from acaas_nova.attestation import registration
from acaas_nova.db import api
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import models
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import records


@dataclasses.dataclass(frozen=True)
class Awaiting:
    """A verified registration DC-S keeps until an operator decides."""

    host: str
    hypervisor_hostname: str
    ek_fingerprint: str
    ek_subject: str
    ek_issuer: str
    cid: str
    ak_public: bytes
    ak_name: str
    ak_certificate: str
    attestation_state: str
    expires_at: datetime.datetime
    channel_key: bytes | None = dataclasses.field(default=None, repr=False)


def _now():
    return nodes_db.naive(datetime.datetime.now(datetime.UTC))


def _record(row) -> records.PendingRegistration:
    return records.PendingRegistration(
        host=row.host,
        hypervisor_hostname=row.hypervisor_hostname,
        ek_fingerprint=row.ek_fingerprint,
        ek_subject=row.ek_subject,
        ek_issuer=row.ek_issuer,
        cid=row.cid,
        created_at=nodes_db.aware(row.created_at),
        expires_at=nodes_db.aware(row.expires_at),
    )


@api.translate_errors
@api.context_manager.writer
def pending_store(context, awaiting, limit):
    """Keep ``awaiting`` (an :class:`Awaiting`) for an operator to decide.

    It replaces an earlier one of the same (host, hypervisor, EK) (a DC-C
    that registered again has a new key); expired rows are purged first.
    Conflict when ``limit`` rows are waiting already, or when the EK is
    registered as a node (it cannot be approved under another name).
    """
    session = context.session
    pr = models.PendingRegistration
    api.purge_replaced(
        session,
        pr,
        awaiting.host,
        awaiting.hypervisor_hostname,
        awaiting.ek_fingerprint,
        _now(),
    )
    cn = models.ComputeNode
    if session.scalar(sa.select(cn.id).where(cn.cid == awaiting.cid)):
        raise exception.Conflict(
            reason="this EK is already registered as another node"
        )
    count = session.scalar(sa.select(sa.func.count()).select_from(pr))
    if count >= limit:
        raise exception.Conflict(
            reason="%d registrations await approval (the limit, [dcs] "
            "max_awaiting_approval); approve or reject some first" % count
        )
    session.add(
        pr(
            host=awaiting.host,
            hypervisor_hostname=awaiting.hypervisor_hostname,
            ek_fingerprint=awaiting.ek_fingerprint,
            ek_subject=awaiting.ek_subject,
            ek_issuer=awaiting.ek_issuer,
            cid=awaiting.cid,
            ak_public=awaiting.ak_public.hex(),
            ak_name=awaiting.ak_name,
            ak_certificate=awaiting.ak_certificate,
            attestation_state=awaiting.attestation_state,
            channel_key=(
                awaiting.channel_key.hex() if awaiting.channel_key else None
            ),
            created_at=_now(),
            expires_at=nodes_db.naive(awaiting.expires_at),
        )
    )
    session.flush()


def _select(host, hypervisor_hostname, ek_fingerprint):
    pr = models.PendingRegistration
    query = sa.select(pr).where(pr.expires_at >= _now())
    if host is not None:
        query = query.where(pr.host == host)
    if hypervisor_hostname is not None:
        query = query.where(pr.hypervisor_hostname == hypervisor_hostname)
    if ek_fingerprint is not None:
        query = query.where(
            pr.ek_fingerprint == registration.parse_fingerprint(ek_fingerprint)
        )
    return query.order_by(pr.host, pr.hypervisor_hostname, pr.created_at)


@api.translate_errors
@api.context_manager.reader
def pending_list(context, host=None, hypervisor_hostname=None):
    """Unexpired registrations awaiting approval (of ``host``, if given)."""
    rows = context.session.scalars(_select(host, hypervisor_hostname, None))
    return [_record(row) for row in rows]


def _label(host, hypervisor_hostname, ek_fingerprint):
    label = (
        host
        if hypervisor_hostname is None
        else "%s:%s"
        % (
            host,
            hypervisor_hostname,
        )
    )
    if ek_fingerprint:
        label += " with EK %s" % ek_fingerprint
    return label


def _one(session, host, hypervisor_hostname, ek_fingerprint):
    rows = session.scalars(
        _select(host, hypervisor_hostname, ek_fingerprint)
    ).all()
    if not rows:
        raise exception.NotFound(
            kind="Pending registration of",
            name=_label(host, hypervisor_hostname, ek_fingerprint),
        )
    if len(rows) > 1:
        raise exception.Invalid(
            reason="%d registrations of host %s are pending (EKs %s); name "
            "one with --ek-fingerprint"
            % (
                len(rows),
                host,
                ", ".join(r.ek_fingerprint for r in rows),
            )
        )
    return rows[0]


@api.translate_errors
@api.context_manager.reader
def pending_get(context, host, hypervisor_hostname=None, ek_fingerprint=None):
    """The one pending registration of ``host`` (NotFound; Invalid if
    several EKs wait under it and ``ek_fingerprint`` names none)."""
    return _record(
        _one(context.session, host, hypervisor_hostname, ek_fingerprint)
    )


@api.translate_errors
@api.context_manager.writer
def pending_approve(
    context, host, hypervisor_hostname=None, ek_fingerprint=None, domain=None
):
    """Declare and register the node of the one pending registration of
    ``host`` (see :func:`pending_get`), bound to its EK; in ``domain`` if
    given.  Every other registration pending under the name is dropped.

    Refused (Conflict) if the name is declared or registered with another
    EK, or the EK is registered as another node.  Returns the Node and
    the PendingRegistration approved.
    """
    session = context.session
    pending = _one(session, host, hypervisor_hostname, ek_fingerprint)
    approved = _record(pending)
    cn = models.ComputeNode
    row = session.scalars(
        sa.select(cn).where(
            cn.host == pending.host,
            cn.hypervisor_hostname == pending.hypervisor_hostname,
        )
    ).first()
    if row is None:
        row = nodes_db.node_create(
            context,
            pending.host,
            pending.hypervisor_hostname,
            domain=domain,
            expected_ek_fingerprint=pending.ek_fingerprint,
        )
        row = session.scalars(
            sa.select(cn).where(
                cn.host == pending.host,
                cn.hypervisor_hostname == pending.hypervisor_hostname,
            )
        ).one()
    else:
        attestation_db.check_ek(row, pending.ek_fingerprint)
        row.expected_ek_fingerprint = pending.ek_fingerprint
        if domain is not None:
            nodes_db.node_set_domain(
                context, row.host, row.hypervisor_hostname, domain
            )
    attestation_db.apply_registration(
        session,
        row,
        pending.cid,
        pending.ek_fingerprint,
        pending.ak_public,
        pending.ak_name,
        pending.ak_certificate,
        pending.attestation_state,
        pending.channel_key,
    )
    pr = models.PendingRegistration
    session.execute(
        sa.delete(pr)
        .where(
            pr.host == approved.host,
            pr.hypervisor_hostname == approved.hypervisor_hostname,
        )
        .execution_options(synchronize_session=False)
    )
    return nodes_db.to_record(session, row), approved


@api.translate_errors
@api.context_manager.writer
def pending_reject(
    context, host, hypervisor_hostname=None, ek_fingerprint=None
):
    """Drop the registrations pending under ``host`` (only that EK's, if
    given); returns what was dropped (NotFound if nothing was)."""
    session = context.session
    rows = session.scalars(
        _select(host, hypervisor_hostname, ek_fingerprint)
    ).all()
    if not rows:
        raise exception.NotFound(
            kind="Pending registration of",
            name=_label(host, hypervisor_hostname, ek_fingerprint),
        )
    dropped = [_record(row) for row in rows]
    pr = models.PendingRegistration
    session.execute(
        sa.delete(pr)
        .where(pr.id.in_([r.id for r in rows]))
        .execution_options(synchronize_session=False)
    )
    return dropped
