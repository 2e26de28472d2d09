"""Fuzz the RPC boundary of DC-S and DC-C: every schema an incoming
message meets before it is used.

Each input is either a JSON text or raw bytes:

* a JSON *envelope* ``{"call": <endpoint method>, "kwargs": {...},
  "sign": bool}`` is dispatched the way oslo.messaging's dispatcher does
  (``method(ctxt, **kwargs)``) to DC-S's agent endpoint
  (:mod:`dc_agents.dcs.manager`), its operator endpoint
  (:mod:`dc_agents.dcs.operator`) or DC-C's (:mod:`dc_agents.dcc.manager`);
  with ``sign`` the harness first gives the message a valid channel MAC
  under the fake node's key (computed as the real sender does), so the
  checks behind the MAC are reached too;
* any other JSON document goes to each schema on its own
  (``parse_quote_answer``, ``decode_pcrs``, the PCR selection,
  ``decode``/``text``/``integer``, :func:`channel.verify` and
  :func:`channel.counter`);
* bytes that are not JSON drive a FuzzedDataProvider that builds an
  envelope of random shape (nested dicts, lists, ints, floats, text with
  surrogates, base64, None) for a method chosen from the same bytes.

Only the database is replaced (:mod:`tests.fuzz.rpc_endpoints`: a
registered node with the harness' channel key; events dropped after
formatting); the endpoints, channel, message schemas, registration proof
and event cleaning are the real ones.  An endpoint may refuse only with
an exception it declares (``expected_exceptions``: oslo.messaging sends
it back without logging a traceback); a cast endpoint
(``round_answer``, ``attest_round``) must not raise at all.  Anything
else is a finding.  Seeds: ``make_seeds`` (the real clients' messages, a
swtpm quote answer).
"""

import base64
import json

import atheris
from oslo_messaging.rpc import dispatcher

from acaas_nova import exception

with atheris.instrument_imports(include=["acaas_nova", "dc_agents"]):
    from acaas_nova.attestation import channel
    from dc_agents import messages
    from dc_agents.dcc import manager as dcc_manager
    from dc_agents.dcs import rpcapi as dcs_rpcapi
    from tests.fuzz import rpc_endpoints as rpc_ep

from tests.fuzz import harness
from tests.fuzz.rpc_seeds import CID
from tests.fuzz.rpc_seeds import KEY
from tests.fuzz.rpc_seeds import NODE


def dispatch(call: str, kwargs: dict, sign: bool) -> None:
    """``call`` as oslo.messaging's dispatcher makes it."""
    if sign:
        kwargs = rpc_ep.sign(call, kwargs)
    # DC-C refuses a nonce seen before: forget them, so that an input
    # takes the same path each time libFuzzer runs it.
    rpc_ep.ENDPOINTS["dcc"]._seen.clear()
    name, method = call.split(".", 1)
    if name == "answers":
        # A notification, as the batch listener hands it on.
        endpoint = rpc_ep.ENDPOINTS[name]
        message = {
            "ctxt": {},
            "publisher_id": dcs_rpcapi.PUBLISHER,
            "event_type": dcs_rpcapi.ANSWER_EVENT,
            "payload": kwargs,
            "metadata": {},
        }

        def func(ctxt, **_kwargs):
            endpoint.info([message])

    else:
        func = getattr(rpc_ep.ENDPOINTS[name], method)
    try:
        func({}, **kwargs)
    except dispatcher.ExpectedException as wrapped:
        # Sent back to the caller as itself, no traceback logged.
        str(wrapped.exc_info[1])
    except Exception as exc:
        raise rpc_ep.Finding(
            "%s raised %s (oslo.messaging logs a traceback): %s"
            % (call, type(exc).__name__, exc)
        ) from exc


# -- the schemas on their own ---------------------------------------------


def schemas(doc) -> None:
    for check in (
        lambda: messages.parse_quote_answer(doc, rpc_ep.LIMIT),
        lambda: messages.decode_pcrs(doc),
        lambda: dcc_manager._selection(doc),
        lambda: messages.decode(doc, "value"),
        lambda: messages.text(doc, "value"),
        lambda: messages.integer(doc, "value"),
        lambda: messages.check_size(doc, "value", 4096),
        lambda: channel.counter(doc),
        lambda: channel.verify(KEY, "quote_answer", NODE, "00", doc),
    ):
        try:
            check()
        except exception.ACaaSException as exc:
            str(exc)


# -- random shapes ---------------------------------------------------------


def _text(fdp, size):
    kind = fdp.ConsumeIntInRange(0, 3)
    if kind == 0:
        return fdp.ConsumeUnicode(size)  # lone surrogates: JSON has them
    if kind == 1:
        return base64.b64encode(fdp.ConsumeBytes(size)).decode("ascii")
    if kind == 2:
        return fdp.ConsumeBytes(size).hex()
    return fdp.ConsumeUnicodeNoSurrogates(size)


def _value(fdp, depth=0):
    kind = fdp.ConsumeIntInRange(0, 9 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return fdp.ConsumeBool()
    if kind == 2:
        return fdp.ConsumeIntInRange(-(2**70), 2**70)
    if kind == 3:
        return fdp.ConsumeIntInRange(0, 30)
    if kind == 4:
        return fdp.ConsumeFloat()
    if kind in (5, 6):
        return _text(fdp, fdp.ConsumeIntInRange(0, 80))
    if kind == 7:
        size = fdp.ConsumeIntInRange(0, 5)
        return [_value(fdp, depth + 1) for _ in range(size)]
    return _mapping(fdp, depth + 1, ())


def _pick(fdp, choices):
    return choices[fdp.ConsumeIntInRange(0, len(choices) - 1)]


def _key(fdp, names):
    if names and fdp.ConsumeIntInRange(0, 3):
        return _pick(fdp, names)
    return _text(fdp, fdp.ConsumeIntInRange(0, 12))


def _b64(fdp, depth):
    return base64.b64encode(fdp.ConsumeBytes(64)).decode("ascii")


def _pcrs(fdp, depth):
    out = {}
    for _ in range(fdp.ConsumeIntInRange(0, 3)):
        bank = _key(fdp, sorted(messages.PCR_BANKS))
        values = out[bank] = {}
        for _ in range(fdp.ConsumeIntInRange(0, 4)):
            kind = fdp.ConsumeIntInRange(0, 2)
            if kind == 0:
                index = str(fdp.ConsumeIntInRange(-2, 30))
            elif kind == 1:
                # Other digits str.isdigit knows (superscript, Arabic,
                # fullwidth ...), signs and spaces int() accepts.
                index = _pick(fdp, ("²", "٣", "７", "⑤", "+1", " 2", "1_0"))
            else:
                index = _text(fdp, 3)
            values[index] = (
                fdp.ConsumeBytes(messages.PCR_BANKS.get(bank, 32)).hex()
                if fdp.ConsumeBool()
                else _value(fdp, depth + 1)
            )
    return out


def _selection_value(fdp, depth):
    return {
        _key(fdp, sorted(messages.PCR_BANKS)): [
            fdp.ConsumeIntInRange(-1, 25)
            if fdp.ConsumeBool()
            else _value(fdp, depth + 1)
            for _ in range(fdp.ConsumeIntInRange(0, 26))
        ]
        for _ in range(fdp.ConsumeIntInRange(0, 2))
    }


def _per_node(fdp, depth):
    """asks / macs: node -> offset or MAC."""
    return {
        _key(fdp, (NODE,)): _pick(fdp, (0, 7, KEY.hex(), None, [], "Ȝ" * 64))
        if fdp.ConsumeBool()
        else _value(fdp, depth + 1)
        for _ in range(fdp.ConsumeIntInRange(0, 3))
    }


ANSWER = (
    "cid",
    "attest",
    "signature",
    "pcrs",
    "ima_log",
    "ima_offset",
    "domain",
)
#: Values of a known shape for fields of that name (at any depth).
FIELDS = {
    "pcrs": _pcrs,
    "selection": _selection_value,
    "asks": _per_node,
    "macs": _per_node,
    "answer": lambda fdp, depth: _mapping(fdp, depth + 1, ANSWER),
    "error": lambda fdp, depth: _mapping(fdp, depth + 1, ("kind", "message")),
    "attest": _b64,
    "signature": _b64,
    "nonce": _b64,
    "ek_public": _b64,
    "ek_certificate": _b64,
    "ak_public": _b64,
    "host": lambda fdp, depth: _pick(fdp, (NODE, "unregistered", "h\x00")),
    "cid": lambda fdp, depth: CID,
    "counter": lambda fdp, depth: fdp.ConsumeIntInRange(-1, 2**64),
}


def _mapping(fdp, depth, names):
    out = {}
    for _ in range(fdp.ConsumeIntInRange(0, len(names) + 3)):
        key = _key(fdp, names)
        make = FIELDS.get(key)
        if make is not None and depth < 5 and fdp.ConsumeBool():
            out[key] = make(fdp, depth)
        else:
            out[key] = _value(fdp, depth)
    return out


def _built(fdp) -> None:
    """A call, or (one in four) one field's value for the schemas."""
    if fdp.ConsumeIntInRange(0, 3) == 0:
        name = _pick(fdp, sorted(FIELDS))
        schemas(FIELDS[name](fdp, 1))
        return
    call = _pick(fdp, sorted(rpc_ep.CALLS))
    sign = fdp.ConsumeBool()
    dispatch(call, _mapping(fdp, 1, rpc_ep.CALLS[call]), sign)


def one_input(data: bytes) -> None:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        # Not JSON (or nested deeper than the broker's decoder takes).
        _built(atheris.FuzzedDataProvider(data))
        return
    if (
        isinstance(doc, dict)
        and isinstance(doc.get("call"), str)
        and doc["call"] in rpc_ep.CALLS
        and isinstance(doc.get("kwargs"), dict)
    ):
        dispatch(doc["call"], doc["kwargs"], doc.get("sign") is True)
    else:
        schemas(doc)


if __name__ == "__main__":
    harness.main(one_input)
