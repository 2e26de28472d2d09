"""Pending registration challenges, shared by every DC-S worker.

Registration takes two requests (Protocol 12.1); with several workers the
second may reach another worker than the first, so the challenge between
them lives here.  A challenge is taken (read and deleted) exactly once.
"""

import dataclasses
import datetime

import sqlalchemy as sa

from acaas_nova import exception
from acaas_nova.db import api
from acaas_nova.db import models
from acaas_nova.db import nodes as nodes_db


@dataclasses.dataclass(frozen=True)
class PendingChallenge:
    session: str
    host: str
    hypervisor_hostname: str
    cid: str
    ek_fingerprint: str
    ek_public: bytes
    ak_public: bytes
    ak_name: bytes
    secret_digest: bytes
    expires_at: datetime.datetime
    channel_key: bytes | None = dataclasses.field(default=None, repr=False)
    #: The EK certificate's subject and issuer (ekcert.describe).
    ek_subject: str = ""
    ek_issuer: str = ""


def _now():
    return nodes_db.naive(datetime.datetime.now(datetime.UTC))


@api.translate_errors
@api.context_manager.writer
def challenge_create(context, pending, limit=None):
    """Store a PendingChallenge; expired ones are purged on the way.

    A node (host, hypervisor host name, EK) has one pending challenge: a
    new one replaces its earlier ones.  With ``limit``, at most that many
    challenges are pending in all; beyond it the registration is refused
    (:class:`~acaas_nova.exception.Conflict`), so a burst of registrations
    cannot fill the database.
    """
    session = context.session
    rc = models.RegistrationChallenge
    api.purge_replaced(
        session,
        rc,
        pending.host,
        pending.hypervisor_hostname,
        pending.ek_fingerprint,
        _now(),
    )
    if limit is not None:
        count = session.scalar(sa.select(sa.func.count()).select_from(rc))
        if count >= limit:
            raise exception.Conflict(
                reason="%d registrations are pending (the limit, [dcs] "
                "max_pending_registrations); try again later" % count
            )
    session.add(
        models.RegistrationChallenge(
            session=pending.session,
            host=pending.host,
            hypervisor_hostname=pending.hypervisor_hostname,
            cid=pending.cid,
            ek_fingerprint=pending.ek_fingerprint,
            ek_public=pending.ek_public.hex(),
            ak_public=pending.ak_public.hex(),
            ak_name=pending.ak_name.hex(),
            secret_digest=pending.secret_digest.hex(),
            channel_key=(
                pending.channel_key.hex() if pending.channel_key else None
            ),
            expires_at=nodes_db.naive(pending.expires_at),
            ek_subject=pending.ek_subject,
            ek_issuer=pending.ek_issuer,
        )
    )


@api.translate_errors
@api.context_manager.writer
def challenge_take(context, session_id, host, hypervisor_hostname):
    """Remove and return the unexpired challenge ``session_id`` of this
    node; None if there is none (unknown, expired, another node's, or
    already taken by a concurrent request)."""
    rc = models.RegistrationChallenge
    row = context.session.scalars(
        sa.select(rc).where(
            rc.session == session_id,
            rc.host == host,
            rc.hypervisor_hostname == hypervisor_hostname,
        )
    ).first()
    if row is None:
        return None
    taken = context.session.execute(
        sa.delete(rc)
        .where(rc.session == session_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1 or row.expires_at < _now():
        return None
    return PendingChallenge(
        session=row.session,
        host=row.host,
        hypervisor_hostname=row.hypervisor_hostname,
        cid=row.cid,
        ek_fingerprint=row.ek_fingerprint,
        ek_public=bytes.fromhex(row.ek_public),
        ak_public=bytes.fromhex(row.ak_public),
        ak_name=bytes.fromhex(row.ak_name),
        secret_digest=bytes.fromhex(row.secret_digest),
        expires_at=nodes_db.aware(row.expires_at),
        channel_key=(
            bytes.fromhex(row.channel_key) if row.channel_key else None
        ),
        ek_subject=row.ek_subject or "",
        ek_issuer=row.ek_issuer or "",
    )
