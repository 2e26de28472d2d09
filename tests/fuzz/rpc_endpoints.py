"""The endpoints ``fuzz_rpc_messages`` calls, with only the database
replaced, and how the real senders sign a message.

The database is in memory: every node but ``unregistered`` is registered
under CID :data:`~tests.fuzz.rpc_seeds.CID` with the channel key
:data:`~tests.fuzz.rpc_seeds.KEY`; events are formatted and dropped.  The
endpoints, the channel, the message schemas, the registration proof and
the event cleaning are the real ones.  Importing this module patches the
database functions the endpoints use: import it in a harness process
only.
"""

import base64
import datetime
import json
import logging
import threading

from acaas_nova import exception
from acaas_nova.attestation import channel
from acaas_nova.attestation import errors as att_errors
from acaas_nova.attestation import registration
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import events as events_db
from acaas_nova.evidence import ek_build
from dc_agents import errors
from dc_agents import messages
from dc_agents import rpc
from dc_agents.dcc import manager as dcc_manager
from dc_agents.dcs import answers
from dc_agents.dcs import chains
from dc_agents.dcs import manager as dcs_manager
from dc_agents.dcs import operator as dcs_operator
from dc_agents.dcs import rounds
from tests.fuzz import harness
from tests.fuzz.rpc_seeds import CID
from tests.fuzz.rpc_seeds import KEY
from tests.fuzz.rpc_seeds import NODE
from tests.fuzz.rpc_seeds import NODE_NONCE
from tests.unit.dc_agents import fakerpc

AK_PUBLIC = (
    harness.CORPUS / "tpm2b_public" / "swtpm_ak_rsa2048.bin"
).read_bytes()
LIMIT = 65536


class Finding(Exception):
    """An endpoint failed in a way oslo.messaging logs as a traceback."""


class _FormatOnly(logging.Handler):
    """Formats every record (a bad format string is a finding) and drops
    it; 1,000,000 runs print nothing."""

    def emit(self, record):
        self.format(record)

    def handleError(self, record):
        raise Finding("log record %r does not format" % record.msg)


logging.basicConfig(level=logging.DEBUG, handlers=[_FormatOnly()])


# -- the database, in memory ---------------------------------------------


def _registration_get(context, host, hypervisor_hostname=None):
    if host == "unregistered":
        raise exception.NotFound(kind="node", name=host)
    hv = host if hypervisor_hostname is None else hypervisor_hostname
    return attestation_db.Registration(
        host=host,
        hypervisor_hostname=hv,
        cid=CID,
        ek_fingerprint="ab" * 32,
        ak_public=AK_PUBLIC,
        ak_name="00" * 34,
        status="trusted",
        rcot=None,
        whitelists=(),
        domain=None,
        properties={},
        state={},
        channel_key=KEY,
    )


def _channel_accept(context, host, hypervisor_hostname, cid, key, counter):
    return counter > 1000


def _add_node(context, host, hypervisor_hostname, domain):
    if domain == "refused":
        raise errors.MembershipRefused(node=host, domain=domain, reason="fuzz")


attestation_db.registration_get = _registration_get
attestation_db.channel_accept = _channel_accept
chains.add_node = _add_node
events_db.event_add = lambda context, subject, event_id, severity, detail: 1


# -- the endpoints' collaborators ------------------------------------------

_CA = ek_build.CertificateAuthority(
    "fuzz AK CA", now=datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
)
_CHALLENGE = registration.Challenge(
    cid=CID,
    ek_public=b"",
    ak_public=AK_PUBLIC,
    ak_name=b"",
    credential_blob=b"",
    encrypted_secret=b"",
    secret_digest=b"",
    channel_key=KEY,
)


class Registrar:
    """Registration as DC-S's registrar does it, without the database:
    the activation proof is checked by the real finish_proven."""

    def begin(self, ctx, host, hv, ek_public, ek_cert, ak_public):
        return {"session": "s" * 32, "cid": CID}

    def finish(self, ctx, host, hv, session, proof):
        node = host if host == hv else "%s:%s" % (host, hv)
        try:
            cert = registration.finish_proven(
                _CHALLENGE, node, session, proof, _CA.key, _CA.cert, _CA.now
            )
        except exception.AttestationError as exc:
            raise errors.RegistrationRefused(
                node=node, reason=exc.message
            ) from None
        return {"cid": CID, "ak_certificate": cert.decode("ascii")}


class Attester:
    def revoke(self, ctx, host, hv, cid, exc, channel_state):
        return {"host": host, "status": "untrusted", "reason": exc.message}

    def attest(self, key):
        return None if key[0] == "unattested" else {"status": "trusted"}

    def forget(self, host, hv):
        pass


class Timers:
    """The round runner: its members, and what its collecting thread does
    with an answer before judging it (MAC check, then the answer's
    schema)."""

    def __init__(self):
        self.members = set()

    def __contains__(self, key):
        return tuple(key) in self.members

    def add(self, key):
        if len(self.members) > 1000:
            self.members.clear()  # bounded over a million runs
        self.members.add(tuple(key))

    def remove(self, key):
        self.members.discard(tuple(key))

    def answer(self, round_id, key, raw, error, signed):
        node = key[0] if key[0] == key[1] else "%s:%s" % key
        try:
            channel.verify(KEY, "round_answer", node, NODE_NONCE.hex(), signed)
        except att_errors.ChannelError as exc:
            str(exc)
            return
        if error is None:
            try:
                messages.parse_quote_answer(raw, LIMIT)
            except (errors.MalformedMessage, errors.MessageTooLarge) as exc:
                str(exc)

    def answers(self, entries):
        """A batch from the answers listener (DC-S API 1.3)."""
        for entry in entries:
            self.answer(*entry)


class Agent:
    """DC-C's agent behind its endpoint: a registered node whose TPM
    answers with the seed corpus' swtpm quote."""

    node = NODE
    channel_key = KEY

    def __init__(self):
        self.ready = threading.Event()
        self.ready.set()
        self.answer = json.loads(
            (harness.CORPUS / "rpc_messages" / "quote_answer.json").read_text()
        )

    def quote(self, nonce, selection, ima_offset):
        return dict(self.answer, ima_offset=ima_offset)

    def answer_round(self, worker, round_id, nonce, selection, offset):
        rounds.node_nonce(nonce, worker, NODE)

    def report_changed(self):
        pass


_CONF = fakerpc.make_conf()
_CONF.set_override("max_message_bytes", LIMIT, group="dcs")
_TIMERS = Timers()
ENDPOINTS = {
    "dcs": dcs_manager.DCSManager(_CONF, Registrar(), Attester(), _TIMERS),
    # The batch endpoint of round answers sent as notifications.
    "answers": answers.AnswerEndpoint(_TIMERS.answers),
    "operator": dcs_operator.DCSOperatorManager(_CONF, Attester()),
    "dcc": dcc_manager.DCCManager(Agent()),
}
ROUND_ANSWER = (
    "host",
    "hypervisor_hostname",
    "round_id",
    "answer",
    "error",
    "mac",
)
CALLS = {
    "dcs.register": (
        "host",
        "hypervisor_hostname",
        "ek_public",
        "ek_certificate",
        "ak_public",
    ),
    "dcs.activate": ("host", "hypervisor_hostname", "session", "cid", "mac"),
    "dcs.registration_status": (
        "host",
        "hypervisor_hostname",
        "cid",
        "counter",
        "mac",
    ),
    "dcs.platform_changed": (
        "host",
        "hypervisor_hostname",
        "cid",
        "reason",
        "counter",
        "mac",
    ),
    # The 1.2 cast and the 1.3 notification carry the same arguments.
    "dcs.round_answer": ROUND_ANSWER,
    "answers.round_answer": ROUND_ANSWER,
    "operator.attest_host": ("host", "hypervisor_hostname", "forwarded"),
    "operator.domain_add_host": ("host", "hypervisor_hostname", "domain"),
    "dcc.quote": ("nonce", "selection", "ima_offset", "mac"),
    "dcc.attest_round": (
        "round_id",
        "nonce",
        "worker",
        "selection",
        "asks",
        "macs",
    ),
}


# -- signing as the real senders do ----------------------------------------


def _fresh(call, kwargs):
    """(channel method, node, freshness, signed args) of a message, as its
    sender computes them; raises for a message it could not have made."""
    method = call.split(".", 1)[1]
    if call == "dcc.quote":
        raw = base64.b64decode(kwargs["nonce"], validate=True)
        return method, NODE, raw.hex(), kwargs
    node = rpc.server_name(kwargs["host"], kwargs.get("hypervisor_hostname"))
    if call == "dcs.activate":
        return channel.ACTIVATE, node, kwargs["session"], kwargs
    if call in ("dcs.round_answer", "answers.round_answer"):
        return method, node, NODE_NONCE.hex(), kwargs
    return method, node, kwargs["counter"], kwargs


def sign(call, kwargs):
    """``kwargs`` with a valid MAC, made as its sender does (as given if
    it has none, or if no sender could have made it)."""
    if call in ("dcs.register", "operator.attest_host"):
        return kwargs
    if call == "operator.domain_add_host":
        return kwargs
    try:
        if call == "dcc.attest_round":
            raw = base64.b64decode(kwargs["nonce"], validate=True)
            request = {
                k: kwargs.get(k) for k in ("round_id", "worker", "selection")
            }
            request["offset"] = kwargs["asks"][NODE]
            mine = rounds.node_nonce(raw, kwargs["worker"], NODE)
            mac = channel.mac(KEY, "attest_round", NODE, mine.hex(), request)
            macs = kwargs.get("macs")
            macs = dict(macs) if isinstance(macs, dict) else {}
            macs[NODE] = mac
            return dict(kwargs, macs=macs)
        return channel.sign(KEY, *_fresh(call, kwargs))
    except (
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        exception.ACaaSException,
    ):
        # Not a message a sender holding the key would sign.
        return kwargs
