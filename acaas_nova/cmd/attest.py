"""``acaas-manage host attest``: attest a compute node now, through DC-S.

The action asks the running DC-S to attest the node immediately, on DC-S's
operator target (``[dcs] operator_topic`` over ``[dcs]
operator_transport_url``; over ``[DEFAULT] transport_url`` only with the
insecure ``[dcs] operator_on_agent_transport``), waits for the outcome and
prints it.  DC-S records it as usual (status, RCoT,
events).
"""

from acaas_nova import exception
from acaas_nova.cmd import base

_FIELDS = [("Host", "host"), ("Status", "status"), ("Detail", "detail")]
#: Seconds to wait beyond DC-S's own deadline for the node's answer.
MARGIN = 15.0


class HostAttestCommands(base.Commands):
    """The ``attest`` action of the ``host`` category."""

    help = "compute nodes"

    @classmethod
    def add_actions(cls, actions) -> None:
        p = base.action(
            actions,
            cls,
            "attest",
            "attest a node now through DC-S and print the result",
            needs=base.NEEDS_NOTHING,
        )
        p.add_argument(
            "host", metavar="HOST", help="host or host:hypervisor_hostname"
        )

    def attest(self, args) -> int:
        # Imported here: oslo.messaging warns at import time (eventlet),
        # which must stay off the terminal of every other action.
        import oslo_messaging

        from dc_agents import rpc
        from dc_agents.dcs import operatorapi

        host, hypervisor = base.split_host(args.host)
        if not (
            self.conf.dcs.operator_transport_url
            or self.conf.dcs.operator_on_agent_transport
        ):
            raise exception.ConfigError(
                reason="[dcs] operator_transport_url is not set: DC-S "
                "serves attest_host only there (see docs/security.rst)"
            )
        timeout = self.conf.dcs.attestation_deadline + MARGIN
        transport = operatorapi.get_transport(self.conf)
        try:
            api = operatorapi.OperatorAPI(
                self.conf, transport, timeout=timeout
            )
            result = api.attest_host(host, hypervisor)
        except oslo_messaging.MessagingTimeout:
            raise exception.ACaaSException(
                "DC-S did not answer within %ds (is acaas-dcs running, and "
                "are [dcs] operator_transport_url and operator_topic "
                "right?)" % timeout
            ) from None
        except exception.ACaaSException as exc:
            # A remote error's text carries DC-S's traceback: keep the
            # message and the exit code only.
            error = exception.ACaaSException(rpc.remote_message(exc))
            error.exit_code = exc.exit_code
            raise error from None
        except oslo_messaging.MessagingException as exc:
            raise exception.ACaaSException(
                "cannot reach DC-S: %s" % rpc.remote_message(exc)
            ) from None
        finally:
            transport.cleanup()
        self.out.show(_FIELDS, result)
        return 0 if result.get("status") == "trusted" else 1
