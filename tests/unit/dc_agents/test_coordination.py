"""Coordination with no backend: one worker, today's behaviour."""

import threading

import pytest
from oslo_config import cfg

from acaas_nova import conf as acaas_conf
from acaas_nova import exception
from dc_agents.dcs import coordination


def _conf(**overrides):
    conf = cfg.ConfigOpts()
    acaas_conf.register_opts(conf)
    conf([], project="acaas", default_config_files=[])
    for name, value in overrides.items():
        conf.set_override(name, value, group="coordination")
    return conf


def test_defaults():
    conf = _conf()
    assert conf.coordination.backend_url == ""
    assert conf.coordination.group_name == "acaas-dcs"
    assert conf.coordination.ring_replicas == 64


def test_without_backend_this_worker_owns_and_leads_everything():
    coord = coordination.Coordination(_conf())
    coord.start()
    try:
        assert not coord.enabled
        assert coord.alive()
        assert coord.owns(("compute1", "compute1"))
        assert coord.owns(("compute2", "compute2.example"))
        assert coord.leads("compliance")
        assert coord.members() == {coord.member_id}
    finally:
        coord.stop()


def test_default_member_id_is_host_and_pid():
    coord = coordination.Coordination(_conf())
    host, _sep, pid = coord.member_id.rpartition("-")
    assert host and pid.isdigit()


def test_configured_member_id_is_used():
    coord = coordination.Coordination(_conf(member_id="dcs-a"))
    assert coord.member_id == "dcs-a"


def test_local_lock_excludes_a_second_holder():
    coord = coordination.Coordination(_conf())
    inside = threading.Event()
    release = threading.Event()
    order = []

    def holder():
        with coord.lock("chains"):
            inside.set()
            release.wait(10)
            order.append("first")

    thread = threading.Thread(target=holder)
    thread.start()
    inside.wait(10)

    def second():
        with coord.lock("chains"):
            order.append("2nd")

    waiter = threading.Thread(target=second)
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # still waiting for the first holder
    release.set()
    thread.join(10)
    waiter.join(10)
    assert order == ["first", "2nd"]


def test_unknown_backend_is_a_one_line_error():
    coord = coordination.Coordination(
        _conf(backend_url="nosuch://127.0.0.1:1", member_id="dcs-a")
    )
    with pytest.raises(exception.CoordinationError) as info:
        coord.start()
    assert "\n" not in str(info.value)
    assert "[coordination] backend_url" in str(info.value)
