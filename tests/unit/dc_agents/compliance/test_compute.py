"""NovaCompute's decisions that need no nova: reasons, errors, fallback."""

import types

import pytest
from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc

from dc_agents.compliance import compute
from dc_agents.compliance import errors
from dc_agents.compliance import nova_records


def test_our_reason_names_acaas_and_the_event():
    reason = nova_records.fence_reason("ev-42")
    assert reason == "ACaaS: untrusted (event ev-42)"
    assert nova_records.is_our_reason(reason)


@pytest.mark.parametrize("reason", [None, "", "disk swap", "acaas: lower"])
def test_other_reasons_are_not_ours(reason):
    assert not nova_records.is_our_reason(reason)


def test_fenced_by_us_needs_disabled_and_our_reason():
    state = nova_records.ServiceState("h", "1", "disabled", "ACaaS: x", "up")
    assert state.fenced_by_us
    assert not nova_records.ServiceState(
        "h", "1", "enabled", "ACaaS: x", "up"
    ).fenced_by_us
    assert not nova_records.ServiceState(
        "h", "1", "disabled", "ops", "up"
    ).fenced_by_us


def _http(code, details):
    return sdk_exc.HttpException(
        message="boom", details=details, http_status=code
    )


def test_client_errors_become_one_line():
    err = compute._translate(_http(404, "No such\nthing"), "reading x")
    assert isinstance(err, errors.ClientError)
    assert not isinstance(err, errors.Unreachable)
    assert "\n" not in str(err)
    assert "HTTP 404 No such" in str(err)


def test_server_errors_and_transport_errors_are_unreachable():
    assert isinstance(
        compute._translate(_http(503, "down"), "x"), errors.Unreachable
    )
    err = compute._translate(ks_exc.ConnectFailure("refused"), "listing")
    assert isinstance(err, errors.Unreachable)
    assert "listing" in str(err)


def test_programming_errors_are_not_swallowed():
    with pytest.raises(KeyError):
        compute._translate(KeyError("x"), "x")


class _Recorder(compute.NovaCompute):
    """NovaCompute whose nova calls are replaced by a script."""

    def __init__(self, live=True, fallback=True, live_outcome=None):
        opts = types.SimpleNamespace(
            live_migration=live,
            cold_migration_fallback=fallback,
            migration_timeout=1,
            poll_interval=0.01,
        )
        self._opts = opts
        self.calls = []
        self._live_outcome = live_outcome

    def live_migrate(self, server_id, host=None):
        self.calls.append(("live", host))
        if self._live_outcome == "refused":
            raise errors.MigrationRefused(
                kind="live", server=server_id, reason="r"
            )

    def cold_migrate(self, server_id, host=None):
        self.calls.append(("cold", host))

    def wait_moved(self, server_id, source, kind, timeout=None):
        if kind == "live" and self._live_outcome == "failed":
            raise errors.MigrationFailed(
                kind=kind, server=server_id, reason="f"
            )
        return "moved"


def test_move_is_live_by_default():
    nova = _Recorder()
    assert nova.move("s", "h1", "h2") == ("live", "moved")
    assert nova.calls == [("live", "h2")]


@pytest.mark.parametrize("outcome", ["refused", "failed"])
def test_move_falls_back_to_cold(outcome):
    nova = _Recorder(live_outcome=outcome)
    assert nova.move("s", "h1", "h2") == ("cold", "moved")
    assert nova.calls == [("live", "h2"), ("cold", "h2")]


def test_move_without_fallback_reports_the_refusal():
    nova = _Recorder(fallback=False, live_outcome="refused")
    with pytest.raises(errors.MigrationRefused):
        nova.move("s", "h1")
    assert nova.calls == [("live", None)]


def test_move_cold_when_configured():
    nova = _Recorder(live=False)
    assert nova.move("s", "h1") == ("cold", "moved")
    assert nova.calls == [("cold", None)]
