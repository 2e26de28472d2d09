"""Registration and attestation state of compute nodes (for DC-S).

DC-S is the only writer of these columns of ``compute_nodes``: the node's
registration (CID, EK fingerprint, AK and its certificate), the verifier's
state between attestations (JSON in ``attestation_state``; its content is
DC-S's business, see dc_agents/dcs/state.py) and the trust outcome.
"""

import dataclasses
import datetime
import json
from typing import Any

import sqlalchemy as sa
from oslo_db import exception as db_exc

from acaas_nova import exception
from acaas_nova.db import api
from acaas_nova.db import lookup
from acaas_nova.db import models
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import ownership
from acaas_nova.db import records


@dataclasses.dataclass(frozen=True)
class Registration:
    """A node as DC-S needs it to attest it (``cid`` None: unregistered)."""

    host: str
    hypervisor_hostname: str
    cid: str | None
    ek_fingerprint: str | None
    ak_public: bytes | None
    ak_name: str | None
    status: str
    rcot: str | None
    whitelists: tuple[str, ...]
    domain: str | None
    properties: dict[str, str]
    state: dict[str, Any]
    registered_at: datetime.datetime | None = None
    last_attested_at: datetime.datetime | None = None
    #: The EK an operator declared for the node (None: any first EK).
    expected_ek_fingerprint: str | None = None
    #: The channel key shared with the node (never in repr: logs).
    channel_key: bytes | None = dataclasses.field(default=None, repr=False)

    @property
    def registered(self) -> bool:
        return self.cid is not None and self.ak_public is not None


def _to_registration(
    session, row, domains=None, properties=None
) -> Registration:
    node = nodes_db.to_record(
        session, row, properties=properties, domains=domains, failure=False
    )
    return Registration(
        host=row.host,
        hypervisor_hostname=row.hypervisor_hostname,
        cid=row.cid,
        ek_fingerprint=row.ek_fingerprint,
        ak_public=bytes.fromhex(row.ak_public) if row.ak_public else None,
        ak_name=row.ak_name,
        status=row.status,
        rcot=row.rcot,
        whitelists=node.whitelists,
        domain=node.domain,
        properties=node.properties,
        state=json.loads(row.attestation_state or "{}"),
        registered_at=node.registered_at,
        last_attested_at=node.last_attested_at,
        expected_ek_fingerprint=row.expected_ek_fingerprint,
        channel_key=(
            bytes.fromhex(row.channel_key) if row.channel_key else None
        ),
    )


@api.translate_errors
@api.context_manager.reader
def registration_get(context, host, hypervisor_hostname=None):
    """The registration of one node (NotFound if we have no record)."""
    row = lookup.node(context.session, host, hypervisor_hostname)
    return _to_registration(context.session, row)


@api.translate_errors
@api.context_manager.reader
def registered_nodes(context):
    """(host, hypervisor_hostname) of every registered node."""
    rows = context.session.execute(
        sa.select(
            models.ComputeNode.host, models.ComputeNode.hypervisor_hostname
        ).where(models.ComputeNode.cid.is_not(None))
    )
    return [(host, hv) for host, hv in rows]


def check_ek(row, ek_fingerprint) -> None:
    """Refuse an EK other than the node's: the one it is registered
    with (Conflict) or the one an operator declared (UndeclaredEK)."""
    if row.ek_fingerprint and row.ek_fingerprint != ek_fingerprint:
        raise exception.Conflict(
            reason="node %s is registered with another EK (%s...)"
            % (row.host, row.ek_fingerprint[:16])
        )
    expected = row.expected_ek_fingerprint
    if expected and expected != ek_fingerprint:
        raise exception.UndeclaredEK(
            reason="node %s was declared with another EK (%s..., not %s...)"
            % (row.host, expected[:16], ek_fingerprint[:16])
        )


def apply_registration(
    session,
    row,
    cid,
    ek_fingerprint,
    ak_public_hex,
    ak_name,
    ak_certificate,
    state_json,
    channel_key_hex,
):
    """Make ``row`` (a declared node) registered: new CID, AK, verifier
    state and channel key (its counter starts again), trust unknown.
    Conflict if the EK is already registered as another node."""
    row.cid = cid
    row.ek_fingerprint = ek_fingerprint
    row.ak_public = ak_public_hex
    row.ak_name = ak_name
    row.ak_certificate = ak_certificate
    row.attestation_state = state_json
    row.channel_key = channel_key_hex
    row.channel_counter = 0
    row.registered_at = nodes_db.naive(datetime.datetime.now(datetime.UTC))
    row.status = records.TRUST_UNKNOWN
    row.rcot = None
    row.whitelists = "[]"
    try:
        session.flush()
    except db_exc.DBDuplicateEntry as exc:
        raise exception.Conflict(
            reason="this EK is already registered as another node"
        ) from exc


@api.translate_errors
@api.context_manager.writer
def node_register(
    context,
    host,
    hypervisor_hostname,
    cid,
    ek_fingerprint,
    ak_public,
    ak_name,
    ak_certificate,
    state,
    channel_key=None,
):
    """Record a completed registration of a declared node.

    NotFound if nobody declared (host, hypervisor): no first-come host
    names (DC-S keeps such a registration for an operator to approve,
    acaas_nova/db/pending.py).

    ``channel_key`` (bytes) replaces the node's previous one at once, and
    its message counter starts again: messages under the old key are
    refused from the commit on.

    A node keeps the EK it first registered with: a different EK for the
    same (host, hypervisor) is refused with Conflict, as is an EK already
    registered under another node (the CID is unique); an EK other than
    the one the operator declared with UndeclaredEK.
    """
    session = context.session
    row = session.scalars(
        sa.select(models.ComputeNode).where(
            models.ComputeNode.host == host,
            models.ComputeNode.hypervisor_hostname == hypervisor_hostname,
        )
    ).first()
    if row is None:
        raise exception.NotFound(
            kind="Host", name="%s:%s" % (host, hypervisor_hostname)
        )
    check_ek(row, ek_fingerprint)
    apply_registration(
        session,
        row,
        cid,
        ek_fingerprint,
        ak_public.hex(),
        ak_name,
        ak_certificate,
        json.dumps(state, sort_keys=True),
        channel_key.hex() if channel_key else None,
    )
    return _to_registration(session, row)


@api.translate_errors
@api.context_manager.writer
def attestation_save(
    context,
    host,
    hypervisor_hostname,
    cid,
    status,
    state=None,
    rcot=None,
    whitelists=(),
    attested_at=None,
    failure_event_id=None,
    revoke=False,
):
    """Store the outcome of one attestation of the registration ``cid``.

    Returns (changed, domain): whether status, RCoT or white-lists
    changed, and the node's domain; or None when the node is no longer
    registered under ``cid`` (revoked or re-registered meanwhile), in
    which case nothing is written.  ``revoke`` ends the registration: the
    node must register again (its EK stays recorded).

    With several DC-S workers (:func:`ownership.configure`), an outcome
    other than a revocation is written only by the node's owner; None
    otherwise.
    """
    if status not in records.TRUST_STATUSES:
        raise exception.Invalid(reason="unknown trust status %r" % status)
    me = ownership.member()
    if (
        me is not None
        and not revoke
        and not ownership.node_hold(context, host, hypervisor_hostname, me)
    ):
        return None
    session = context.session
    row = lookup.node(session, host, hypervisor_hostname)
    if row.cid is None or row.cid != cid:
        return None
    names = json.dumps(sorted(whitelists))
    changed = (row.status, row.rcot, row.whitelists or "[]") != (
        status,
        rcot,
        names,
    )
    row.status, row.rcot, row.whitelists = status, rcot, names
    if attested_at is not None:
        row.last_attested_at = nodes_db.naive(attested_at)
    if failure_event_id is not None:
        row.last_failure_event_id = failure_event_id
    if state is not None:
        row.attestation_state = json.dumps(state, sort_keys=True)
    if revoke:
        row.cid = row.ak_public = row.ak_name = row.ak_certificate = None
        row.attestation_state = row.channel_key = row.channel_counter = None
        changed = True
    domain = None
    if row.domain_id is not None:
        domain = session.get(models.PhysicalLayerDomain, row.domain_id).name
    return changed, domain


def _members(session, domain_ids):
    rows = session.scalars(
        sa.select(models.ComputeNode).where(
            models.ComputeNode.domain_id.in_(domain_ids)
        )
    ).all()
    names = {
        d.id: d.name
        for d in session.scalars(
            sa.select(models.PhysicalLayerDomain).where(
                models.PhysicalLayerDomain.id.in_(domain_ids)
            )
        )
    }
    out = {name: [] for name in names.values()}
    for row in rows:
        out[names[row.domain_id]].append(
            _to_registration(session, row, domains=names)
        )
    return out


@api.translate_errors
@api.context_manager.reader
def chain_inputs(context, domain):
    """What the chains of trust touched by ``domain`` are computed from.

    Returns (affected, capabilities, members): ``affected`` maps the
    domain and every domain that has it as a collaborating (backup) domain
    to their backup domains' names in priority order; ``capabilities`` and
    ``members`` (Registrations) cover every domain named there.
    """
    session = context.session
    start = lookup.domain(session, domain)
    pairs = models.CollaboratingPLDomain
    sources = {start.id} | set(
        session.scalars(
            sa.select(pairs.domain_id).where(
                pairs.backup_domain_id == start.id
            )
        )
    )
    backups = {s: [] for s in sources}
    for pair in session.scalars(
        sa.select(pairs)
        .where(pairs.domain_id.in_(sources))
        .order_by(pairs.priority)
    ):
        backups[pair.domain_id].append(pair.backup_domain_id)
    ids = sources | {b for ids in backups.values() for b in ids}
    domains = {
        d.id: d
        for d in session.scalars(
            sa.select(models.PhysicalLayerDomain).where(
                models.PhysicalLayerDomain.id.in_(ids)
            )
        )
    }
    caps = {d.name: {} for d in domains.values()}
    for cap in session.scalars(
        sa.select(models.DomainCapability).where(
            models.DomainCapability.domain_id.in_(ids)
        )
    ):
        caps[domains[cap.domain_id].name][cap.key] = cap.value
    affected = {
        domains[s].name: [domains[b].name for b in backups[s]] for s in sources
    }
    return affected, caps, _members(session, ids)


@api.translate_errors
@api.context_manager.writer
def attestation_touch(context, host, hypervisor_hostname, cid, state, at):
    """The common case in one statement: a trusted node attested again
    with the same outcome (status, RCoT, white-lists) -- store its new
    verifier state and time.  False if the node is no longer trusted
    under ``cid``, or (several DC-S workers) this worker does not own it
    (then nothing is written; use attestation_save)."""
    cn = models.ComputeNode
    me = ownership.member()
    guard = [] if me is None else [cn.dcs_owner == me]
    result = context.session.execute(
        sa.update(cn)
        .where(
            cn.host == host,
            cn.hypervisor_hostname == hypervisor_hostname,
            cn.cid == cid,
            cn.status == records.TRUST_TRUSTED,
            *guard,
        )
        .values(
            attestation_state=json.dumps(state, sort_keys=True),
            last_attested_at=nodes_db.naive(at),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


@api.translate_errors
@api.context_manager.writer
def attestation_touch_many(context, nodes, at):
    """Many unchanged re-attestations in one statement.

    ``nodes`` is a list of (host, hypervisor_hostname, cid, state): their
    ``last_attested_at`` becomes ``at`` in one UPDATE, and those whose
    ``state`` is not None (the verifier state changed materially) have it
    stored too.  Only rows still trusted under ``cid`` are written.
    Returns the (host, hypervisor_hostname) of those that were not.
    """
    if not nodes:
        return []
    cn = models.ComputeNode
    keys = [(host, hv, cid) for host, hv, cid, _state in nodes]
    me = ownership.member()
    # With several DC-S workers only the owner writes (a rebalance may be
    # under way): nodes owned by another worker come back as missed.
    guard = () if me is None else (cn.dcs_owner == me,)
    where = (
        sa.tuple_(cn.host, cn.hypervisor_hostname, cn.cid).in_(keys),
        cn.status == records.TRUST_TRUSTED,
        *guard,
    )
    session = context.session
    result = session.execute(
        sa.update(cn)
        .where(*where)
        .values(last_attested_at=nodes_db.naive(at))
        .execution_options(synchronize_session=False)
    )
    missed = []
    if result.rowcount != len(keys):
        found = set(
            session.execute(
                sa.select(cn.host, cn.hypervisor_hostname, cn.cid).where(
                    *where
                )
            )
        )
        missed = [(h, v) for h, v, c in keys if (h, v, c) not in found]
    lost = set(missed)
    for host, hv, cid, state in nodes:
        if state is None or (host, hv) in lost:
            continue
        session.execute(
            sa.update(cn)
            .where(
                cn.host == host,
                cn.hypervisor_hostname == hv,
                cn.cid == cid,
                cn.status == records.TRUST_TRUSTED,
                *guard,
            )
            .values(attestation_state=json.dumps(state, sort_keys=True))
            .execution_options(synchronize_session=False)
        )
    return missed


@api.translate_errors
@api.context_manager.reader
def registrations_all(context):
    """Every registered node's Registration, in a few queries (DC-S
    start-up: not one read per node)."""
    session = context.session
    domains = {
        d.id: d.name
        for d in session.scalars(sa.select(models.PhysicalLayerDomain))
    }
    properties: dict[int, dict[str, str]] = {}
    for prop in session.scalars(sa.select(models.NodeProperty)):
        properties.setdefault(prop.node_id, {})[prop.key] = prop.value
    rows = session.scalars(
        sa.select(models.ComputeNode).where(
            models.ComputeNode.cid.is_not(None)
        )
    )
    return [
        _to_registration(
            session,
            row,
            domains=domains,
            properties=properties.get(row.id, {}),
        )
        for row in rows
    ]


@api.translate_errors
@api.context_manager.writer
def channel_accept(context, host, hypervisor_hostname, cid, key, counter):
    """Accept message ``counter`` of the node registered as ``cid`` under
    channel ``key``: one conditional UPDATE, so that of several DC-S
    workers (or threads) handed the same message exactly one accepts it.
    False if the counter is not above the last accepted one, or the node
    is no longer registered under that CID and key (nothing written).

    Called inside the transaction of the write the message causes (see
    :func:`writing`), a refusal rolls that write back too.
    """
    cn = models.ComputeNode
    result = context.session.execute(
        sa.update(cn)
        .where(
            cn.host == host,
            cn.hypervisor_hostname == hypervisor_hostname,
            cn.cid == cid,
            cn.channel_key == key.hex(),
            sa.or_(cn.channel_counter.is_(None), cn.channel_counter < counter),
        )
        .values(channel_counter=counter)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def writing(context):
    """One write transaction for several writes of this module (and the
    event log): use as ``with writing(ctx):``; the decorated functions
    called inside join it, and an exception rolls all of them back."""
    return api.context_manager.writer.using(context)
