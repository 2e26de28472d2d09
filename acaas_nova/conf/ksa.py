"""keystoneauth options of a group through which DC-S calls a service.

DC-S talks to nova and placement with its own service credentials, read
from a group laid out as every OpenStack service lays out such groups:
keystoneauth's session options (TLS, timeout), its auth options
(``auth_type`` and the plugin's own options, e.g. ``auth_url``,
``username``, ``password`` for ``password``) and its adapter options
(``service_type``, ``valid_interfaces``, ``region_name``,
``endpoint_override``).  The API versions are not operator options: the
code knows the microversions it needs.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

#: Adapter options dropped: the code, not the operator, picks versions.
_VERSION_OPTS = ("version", "min_version", "max_version")


def adapter_opts(service_type):
    """keystoneauth's adapter options, defaulted for ``service_type``."""
    opts = [
        opt
        for opt in ks_loading.get_adapter_conf_options(
            include_deprecated=False
        )
        if opt.dest not in _VERSION_OPTS
    ]
    cfg.set_defaults(
        opts,
        service_type=service_type,
        valid_interfaces=["internal", "public"],
    )
    return opts


def register(conf, group_name, service_type):
    """Register session, auth and adapter options on ``group_name``."""
    ks_loading.register_session_conf_options(conf, group_name)
    ks_loading.register_auth_conf_options(conf, group_name)
    conf.register_opts(adapter_opts(service_type), group=group_name)


def list_opts(service_type):
    """Every keystoneauth option of such a group, for the sample file.

    The auth options are those of the ``password`` plugin, the one a
    service account normally uses; others are loaded by ``auth_type``.
    """
    return (
        ks_loading.get_session_conf_options()
        + ks_loading.get_auth_common_conf_options()
        + ks_loading.get_auth_plugin_conf_options("password")
        + adapter_opts(service_type)
    )
