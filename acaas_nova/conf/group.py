"""Registering one option group on a caller's ConfigOpts."""

from oslo_config import cfg


def register(conf, group, opts):
    """Register ``opts`` under a fresh copy of ``group`` on ``conf``.

    A fresh group per ConfigOpts: oslo.config's register_group() makes a
    shallow copy that would share option state (overrides) between
    ConfigOpts objects through a module-level group.
    """
    conf.register_group(
        cfg.OptGroup(group.name, title=group.title, help=group.help)
    )
    conf.register_opts(opts, group=group.name)
