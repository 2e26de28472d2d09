"""Domain chains of trust (DCoT, CDCoT) and domain membership, for DC-S.

The values are defined by :mod:`acaas_nova.attestation.chain` (pure); this
module feeds it from the database and stores the results where the
scheduler reads them.  Recomputation is serialised by one lock so that two
attestations finishing together cannot store a DCoT computed from a
membership snapshot older than the other's; with several DC-S workers
:func:`configure` adds their group-wide lock, so that one recomputation
runs at a time in the whole cloud (docs/daemons.rst).
"""

import contextlib
import datetime
import logging
import threading
from collections.abc import Callable

from acaas_nova.attestation import chain
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import domains as domains_db
from acaas_nova.db import nodes as nodes_db
from acaas_nova.db import records
from dc_agents import errors
from dc_agents.dcs import dbwrite
from dc_agents.dcs import state as state_mod

LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()
_group_lock: Callable[[], contextlib.AbstractContextManager] = (
    contextlib.nullcontext
)


def configure(group_lock=None) -> None:
    """Serialise recomputation across workers with ``group_lock()`` (a
    context manager factory); None: within this process only."""
    global _group_lock
    _group_lock = group_lock or contextlib.nullcontext


def _ident(reg) -> str:
    if reg.host == reg.hypervisor_hostname:
        return reg.host
    return "%s:%s" % (reg.host, reg.hypervisor_hostname)


def node_trust(reg: attestation_db.Registration) -> chain.NodeTrust:
    """What the chain math needs of a node, from its registration."""
    st = state_mod.load(reg.state)
    trusted = reg.registered and reg.status == records.TRUST_TRUSTED
    return chain.NodeTrust(
        node=_ident(reg),
        trusted=trusted,
        ak_name=bytes.fromhex(reg.ak_name or ""),
        boot_bank=st.bank,
        boot_pcrs=st.boot_pcrs,
        whitelists=st.satisfied if trusted else frozenset(),
        capabilities=dict(reg.properties),
        reason="" if trusted else "status %s" % reg.status,
    )


def _now():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def recompute(context, domain: str) -> dict[str, chain.ChainValue]:
    """Recompute and store the DCoT of ``domain`` and the CDCoT of it and
    of every domain it backs up; returns name -> DCoT."""
    with _LOCK, _group_lock(), dbwrite.writing():
        affected, caps, members = attestation_db.chain_inputs(context, domain)
        trust = {
            name: chain.DomainTrust(
                name, caps[name], [node_trust(r) for r in members[name]]
            )
            for name in caps
        }
        now = _now()
        out = {}
        for name, backups in sorted(affected.items()):
            dcot = chain.dcot(trust[name])
            cdcot = chain.cdcot(trust[name], [trust[b] for b in backups])
            domains_db.domain_dcot_set(
                context, name, dcot.value, cdcot.value, now
            )
            LOG.debug(
                "Domain %s: DCoT %s (%s), CDCoT %s (%s)",
                name,
                dcot.value,
                dcot.reason,
                cdcot.value,
                cdcot.reason,
            )
            out[name] = dcot
        return out


def repair(context) -> list[str]:
    """Recompute the chains of every domain from its members' committed
    states; returns the names of the domains whose stored DCoT or CDCoT
    was wrong (and is now repaired).

    DC-S runs it at start, before it serves: a worker killed after a
    node's status change committed and before the chains were recomputed
    left them computed from the old member states (e.g. a DCoT still
    defined while its only member is untrusted).
    """
    before = {
        d.name: (d.dcot, d.cdcot) for d in domains_db.domain_list(context)
    }
    repaired = []
    for name in sorted(before):
        recompute(context, name)
    for d in domains_db.domain_list(context):
        if before.get(d.name) != (d.dcot, d.cdcot):
            LOG.warning(
                "Repaired the chains of domain %s: DCoT %s -> %s, "
                "CDCoT %s -> %s",
                d.name,
                before[d.name][0],
                d.dcot,
                before[d.name][1],
                d.cdcot,
            )
            repaired.append(d.name)
    return repaired


def check_membership(context, reg, domain: str) -> None:
    """Refuse (MembershipRefused) unless ``reg`` may join ``domain``.

    The node must be trusted, offer every capability the domain declares
    (as node properties) and satisfy every white-list the domain's trusted
    members share, so that joining never changes a defined DCoT.
    """
    node = _ident(reg)
    if not reg.registered or reg.status != records.TRUST_TRUSTED:
        raise errors.MembershipRefused(
            node=node,
            domain=domain,
            reason="node is %s"
            % (reg.status if reg.registered else "not registered"),
        )
    _affected, caps, members = attestation_db.chain_inputs(context, domain)
    others = [
        node_trust(r)
        for r in members[domain]
        if (r.host, r.hypervisor_hostname)
        != (reg.host, reg.hypervisor_hostname)
        and r.status == records.TRUST_TRUSTED
    ]
    joined = chain.domain_class(
        chain.DomainTrust(domain, caps[domain], [*others, node_trust(reg)])
    )
    if isinstance(joined, str):
        raise errors.MembershipRefused(node=node, domain=domain, reason=joined)
    if others:
        current = chain.domain_class(
            chain.DomainTrust(domain, caps[domain], others)
        )
        if not isinstance(current, str) and (
            current.whitelists != joined.whitelists
        ):
            missing = sorted(
                "%s/%s" % (r.name, r.version)
                for r in current.whitelists - joined.whitelists
            )
            raise errors.MembershipRefused(
                node=node,
                domain=domain,
                reason="node does not satisfy white-list(s) %s that the "
                "domain's members share" % ", ".join(missing),
            )


def add_node(context, host, hypervisor_hostname, domain) -> None:
    """Check and add a node to ``domain``; recompute the chains touched.

    The function acaas-manage and DC-S's ``domain_add_host`` call.
    """
    reg = attestation_db.registration_get(context, host, hypervisor_hostname)
    check_membership(context, reg, domain)
    with dbwrite.writing():
        nodes_db.node_set_domain(
            context, reg.host, reg.hypervisor_hostname, domain
        )
    for name in {domain, reg.domain} - {None}:
        recompute(context, name)
