"""Resolve the names users type into rows, raising NotFound otherwise."""

import sqlalchemy as sa

from acaas_nova import exception
from acaas_nova.db import models


def location(session, name):
    return _by_name(session, models.Location, "Location", name)


def domain(session, name):
    return _by_name(session, models.PhysicalLayerDomain, "Domain", name)


def node(session, host, hypervisor_hostname=None):
    """The node of ``host`` (and hypervisor, if the host has several)."""
    query = sa.select(models.ComputeNode).where(
        models.ComputeNode.host == host
    )
    if hypervisor_hostname is not None:
        query = query.where(
            models.ComputeNode.hypervisor_hostname == hypervisor_hostname
        )
    rows = session.scalars(query).all()
    label = (
        host
        if hypervisor_hostname is None
        else "%s:%s"
        % (
            host,
            hypervisor_hostname,
        )
    )
    if not rows:
        raise exception.NotFound(kind="Host", name=label)
    if len(rows) > 1:
        raise exception.Invalid(
            reason="host %s has several hypervisors; name one as "
            "host:hypervisor_hostname" % host
        )
    return rows[0]


def _by_name(session, model, kind, name):
    row = session.scalars(sa.select(model).where(model.name == name)).first()
    if row is None:
        raise exception.NotFound(kind=kind, name=name)
    return row


def split_host(ident):
    """``host`` or ``host:hypervisor_hostname`` -> (host, hypervisor|None)."""
    if not ident or not ident.strip():
        raise exception.Invalid(reason="empty host name")
    host, sep, hypervisor = ident.partition(":")
    if sep and not (host and hypervisor):
        raise exception.Invalid(
            reason="host %r is not host or host:hypervisor_hostname" % ident
        )
    return host, (hypervisor if sep else None)
