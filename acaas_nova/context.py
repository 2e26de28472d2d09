"""Request context for acaas-nova's own database access.

Inside nova-scheduler we deliberately do not reuse nova's RequestContext:
its enginefacade state belongs to nova's databases, ours to our own.
"""

from oslo_db.sqlalchemy import enginefacade


@enginefacade.transaction_context_provider
class RequestContext:
    """A minimal context carrying enginefacade's transaction state."""

    def __init__(self, project_id=None, user_id=None):
        self.project_id = project_id
        self.user_id = user_id


def get_admin_context() -> RequestContext:
    return RequestContext()
