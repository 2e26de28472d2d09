"""The demo's one error: a step that did not behave as described."""

from acaas_nova import exception


class DemoError(exception.ACaaSException):
    """A demo step failed; the message says which and why (one line)."""

    msg_fmt = "demo step failed: %(reason)s"
