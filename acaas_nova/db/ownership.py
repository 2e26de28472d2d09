"""Which DC-S worker attests which compute node (``compute_nodes.dcs_owner``).

The hash ring (dc_agents/dcs/ring.py) says who *should* attest a node; the
database says who *may record* its outcome.  A worker claims the nodes its
ring share gives it; a claim succeeds only when the node is unowned, owned
by the claimer, or owned by a worker the claimer no longer sees alive.  A
worker that loses nodes in a rebalance releases them.  Only the owner may
record a trusted or unknown outcome (see :func:`node_hold` and
:mod:`acaas_nova.db.attestation`), so during a rebalance window no node is
recorded by two workers.  Making a node *less* trusted (revocation) is
allowed from any worker.

:func:`configure` names this process's worker; left unset (one DC-S with
no coordination backend, today's default) no guard applies.
"""

import sqlalchemy as sa

from acaas_nova.db import api
from acaas_nova.db import models

# Keys per statement: bounded so that IN lists stay small on every backend.
CHUNK = 500

_member: str | None = None


def configure(member_id: str | None) -> None:
    """Guard this process's attestation writes as worker ``member_id``
    (None: a single uncoordinated DC-S, no guard)."""
    global _member
    _member = member_id


def member() -> str | None:
    """The worker id writes are guarded with (None: no guard)."""
    return _member


def _chunks(keys):
    keys = sorted(set(keys))
    for start in range(0, len(keys), CHUNK):
        yield keys[start : start + CHUNK]


def _key_in(chunk):
    cn = models.ComputeNode
    return sa.tuple_(cn.host, cn.hypervisor_hostname).in_(chunk)


@api.translate_errors
@api.context_manager.writer
def nodes_claim(context, keys, member_id, live_members):
    """Make ``member_id`` the owner of the registered nodes among ``keys``
    ((host, hypervisor_hostname) pairs) that are unowned, already its own
    or owned by a worker not in ``live_members``.  Returns the set of keys
    it owns afterwards."""
    cn = models.ComputeNode
    live = sorted(set(live_members) | {member_id})
    owned = set()
    for chunk in _chunks(keys):
        context.session.execute(
            sa.update(cn)
            .where(
                _key_in(chunk),
                cn.cid.is_not(None),
                sa.or_(cn.dcs_owner.is_(None), cn.dcs_owner.not_in(live)),
            )
            .values(dcs_owner=member_id)
            .execution_options(synchronize_session=False)
        )
        owned.update(
            (host, hv)
            for host, hv in context.session.execute(
                sa.select(cn.host, cn.hypervisor_hostname).where(
                    _key_in(chunk),
                    cn.cid.is_not(None),
                    cn.dcs_owner == member_id,
                )
            )
        )
    return owned


@api.translate_errors
@api.context_manager.writer
def nodes_release(context, keys, member_id):
    """Give up ``member_id``'s ownership of ``keys``; returns how many
    nodes it released (nodes owned by someone else are left alone)."""
    cn = models.ComputeNode
    released = 0
    for chunk in _chunks(keys):
        result = context.session.execute(
            sa.update(cn)
            .where(_key_in(chunk), cn.dcs_owner == member_id)
            .values(dcs_owner=None)
            .execution_options(synchronize_session=False)
        )
        released += result.rowcount
    return released


@api.translate_errors
@api.context_manager.writer
def node_hold(context, host, hypervisor_hostname, member_id):
    """Lock the node's row for the rest of the caller's transaction and
    say whether ``member_id`` owns it (False too if there is no such node).

    Called inside the writer transaction that records an attestation, so
    that no claim can move the node between this check and the commit.
    """
    cn = models.ComputeNode
    owner = context.session.execute(
        sa.select(cn.dcs_owner)
        .where(
            cn.host == host,
            cn.hypervisor_hostname == hypervisor_hostname,
        )
        .with_for_update()
    ).first()
    return owner is not None and owner[0] == member_id


@api.translate_errors
@api.context_manager.reader
def node_owners(context):
    """(host, hypervisor_hostname) -> owning worker (None: unowned) of
    every registered node."""
    cn = models.ComputeNode
    rows = context.session.execute(
        sa.select(cn.host, cn.hypervisor_hostname, cn.dcs_owner).where(
            cn.cid.is_not(None)
        )
    )
    return {(host, hv): owner for host, hv, owner in rows}
