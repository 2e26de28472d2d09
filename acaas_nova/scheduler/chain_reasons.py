"""Why a domain's chain of trust does not vouch for a white-list.

``acaas:domain_trust=<white-list>`` asks that every node of the host's
physical domain is trusted under that white-list: DC-S's DCoT of the
domain is defined and its trust class (the white-lists every member
satisfies) holds it.  ``acaas:backup_trust`` asks the same of the domain
together with its collaborating domains (the CDCoT).  The
:class:`~acaas_nova.scheduler.topology.Topology` works out which
white-lists each chain holds; this module only names, for a rejection,
the first member or domain that breaks the chain.  Pure.
"""

from acaas_nova.db import records


def _member_lacking(topology, name: str, wanted: str) -> str | None:
    """Why the first member of ``name`` not trusted under ``wanted`` fails."""
    for key in topology.members.get(name, ()):
        node = topology.nodes[key]
        if node.defect or node.status != records.TRUST_TRUSTED:
            return "node %s is %s" % (
                node.ident,
                "corrupt" if node.defect else node.status,
            )
        if wanted not in node.whitelists:
            return "node %s does not satisfy it" % node.ident
    return None


def dcot(topology, dom, missing) -> str:
    """Reason: ``dom``'s DCoT holds none of ``missing`` (first named)."""
    wanted = min(missing)
    if dom.dcot is None:
        why = "its DCoT is undefined"
    elif not topology.members.get(dom.name):
        why = "it has no members"
    else:
        why = _member_lacking(topology, dom.name, wanted) or "DCoT lacks it"
    return "domain %s: no DCoT for white-list %s (%s)" % (
        dom.name,
        wanted,
        why,
    )


def cdcot(topology, dom, missing) -> str:
    """Reason: the CDCoT of ``dom`` and its backups lacks ``missing``."""
    wanted = min(missing)
    if dom.cdcot is None:
        why = "its CDCoT is undefined"
    else:
        why = "CDCoT lacks it"
        for name in (dom.name, *dom.backups):
            other = topology.domains.get(name)
            if other is None:
                why = "backup domain %s is unknown" % name
                break
            if wanted not in other.trusted_under:
                lacking = _member_lacking(topology, name, wanted)
                why = "domain %s: %s" % (
                    name,
                    lacking or "its DCoT is undefined",
                )
                break
    return "domain %s with backups %s: no CDCoT for white-list %s (%s)" % (
        dom.name,
        ",".join(dom.backups) or "none",
        wanted,
        why,
    )
