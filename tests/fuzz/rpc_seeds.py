"""Seeds of ``fuzz_rpc_messages``: the messages the real RPC clients send.

DC-C's :class:`~dc_agents.dcs.rpcapi.DCSAPI`, the operators'
:class:`~dc_agents.dcs.operatorapi.OperatorAPI` and DC-S's
:class:`~dc_agents.dcc.rpcapi.DCCAPI` are made on a fake transport whose
client only records what would be sent, so each seed's arguments are
byte for byte a real message (MACs under the fake node's channel key
included).  The quote answer carries a swtpm's quote and signature (of
PCRs 0-10 of both banks, all zero in a fresh swtpm) as DC-C's agent
wraps them (:func:`dc_agents.messages.quote_answer`).
"""

import json

from acaas_nova.attestation import channel
from dc_agents import messages
from dc_agents import rpc
from dc_agents.dcc import rpcapi as dcc_rpcapi
from dc_agents.dcs import operatorapi
from dc_agents.dcs import roundrunner
from dc_agents.dcs import rounds
from dc_agents.dcs import rpcapi as dcs_rpcapi
from tests.fuzz.harness import CORPUS
from tests.unit.dc_agents import fakerpc

#: The fake node: its channel key, CID and the round nonce DC-S asked it.
KEY = bytes(range(32))
CID = "cid-8f0c2d3e4b5a69788796a5b4c3d2e1f0"
NODE = "compute-1"
NODE_NONCE = bytes.fromhex("5a" * 32)
WORKER = "dcs-worker-1"
ROUND_ID = "round-0001"
SELECTION = {"sha256": list(range(11))}


def _swtpm(folder: str, name: str) -> bytes:
    return (CORPUS / folder / name).read_bytes()


def quote_answer(ima_log: str) -> dict:
    zeros = {
        "sha256": {i: b"\0" * 32 for i in range(11)},
        "sha1": {i: b"\0" * 20 for i in range(11)},
    }
    return messages.quote_answer(
        CID,
        _swtpm("tpms_attest", "swtpm_rsa2048.bin"),
        _swtpm("tpmt_signature", "swtpm_rsa2048.bin"),
        zeros,
        ima_log,
        0,
        "dom-eu",
    )


class _Recorder:
    """Stands in for an oslo.messaging RPC client: records the call."""

    def __init__(self, prefix: str, sent: list):
        self.prefix = prefix
        self.sent = sent

    def prepare(self, **kw):
        return self

    def call(self, ctxt, method, **kwargs):
        self.sent.append(("%s.%s" % (self.prefix, method), kwargs))
        return {}

    cast = call


class _AnswerRecorder:
    """Records round answers sent as notifications (DC-S API 1.3), after
    the RPC messages (the seeds' numbering stays as it was), and as the
    1.2 cast DC-S still serves."""

    def __init__(self, sent, later):
        self.sent = sent
        self.later = later

    def send(self, worker, args):
        self.sent.append(("dcs.round_answer", args))
        self.later.append(("answers.round_answer", args))


def _clients(sent, later=None):
    conf = fakerpc.make_conf()
    transport = rpc.get_transport(conf, url="fake://")
    dcs = dcs_rpcapi.DCSAPI(conf, transport)
    dcs.client = _Recorder("dcs", sent)
    dcs.answers = _AnswerRecorder(sent, later if later is not None else [])
    dcs.counter = channel.Counter(clock=lambda: 1_780_000_000 * 10**9)
    operator = operatorapi.OperatorAPI(conf, transport)
    operator.client = _Recorder("operator", sent)
    dcc = dcc_rpcapi.DCCAPI(conf, transport)
    dcc.client = _Recorder("dcc", sent)
    return dcs, operator, dcc, transport


def _round_message() -> dict:
    """attest_round as DC-S's round runner builds it for one node."""

    class Ask:
        offset = 0

    request = roundrunner.round_request(ROUND_ID, WORKER, SELECTION, Ask)
    return {
        "round_id": ROUND_ID,
        "nonce": messages.encode(b"r" * 32),
        "worker": WORKER,
        "selection": SELECTION,
        "asks": {NODE: 0},
        "macs": {
            NODE: channel.mac(
                KEY,
                "attest_round",
                NODE,
                _node_nonce(b"r" * 32).hex(),
                request,
            )
        },
    }


def _node_nonce(round_nonce: bytes) -> bytes:
    return rounds.node_nonce(round_nonce, WORKER, NODE)


def seeds(ima_log: str) -> dict[str, bytes]:
    """File name -> seed; ``ima_log``: a measurement list's text."""
    answer = quote_answer(ima_log)
    sent: list = []
    later: list = []
    dcs, operator, dcc, transport = _clients(sent, later)
    try:
        dcs.register(
            NODE,
            NODE,
            _swtpm("tpm2b_public", "swtpm_ek_rsa2048.bin"),
            _swtpm("ek_certificate", "swtpm_rsa2048.der"),
            _swtpm("tpm2b_public", "swtpm_ak_rsa2048.bin"),
        )
        dcs.activate(NODE, NODE, "ab" * 16, CID, KEY)
        dcs.registration_status(NODE, NODE, CID, KEY)
        dcs.platform_changed(NODE, "hv-1", CID, "PCR 7 changed", KEY)
        dcs.round_answer(
            WORKER, ROUND_ID, NODE, NODE, answer, None, KEY, NODE_NONCE
        )
        dcs.round_answer(
            WORKER,
            ROUND_ID,
            NODE,
            NODE,
            None,
            {"kind": "agent_error", "message": "TPM busy"},
            KEY,
            NODE_NONCE,
        )
        operator.attest_host(NODE, NODE)
        operator.attest_host(NODE, server=WORKER)
        operator.domain_add_host(NODE, None, "dom-eu")
        dcc.quote(NODE, NODE, b"q" * 32, SELECTION, 12, 5.0, key=KEY)
        dcc.round(0, _round_message())
    finally:
        rpc.cleanup(transport)
    out = {"quote_answer.json": json.dumps(answer, indent=1).encode()}
    for i, (call, kwargs) in enumerate(sent + later):
        # As sent, and (messages with a MAC) re-signed by the harness
        # after mutation.
        for sign in (False, True) if "mac" in json.dumps(kwargs) else (False,):
            doc = {"call": call, "kwargs": kwargs, "sign": sign}
            name = "%02d_%s%s.json" % (i, call, "_signed" if sign else "")
            out[name] = json.dumps(doc, indent=1).encode()
    return out
