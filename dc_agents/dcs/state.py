"""The verifier's per-node state between attestations, as JSON.

DC-S keeps, per registered node, what incremental verification needs: the
clock info of the last accepted quote (replay and reboot detection), how
much of the IMA log was accepted and the PCR 10 value it replays to, the
white-list evaluations of that log, and the verified boot PCRs and
satisfied white-lists the chains of trust are computed from.  Stored in
``compute_nodes.attestation_state`` as JSON (never pickled).
"""

import dataclasses
from typing import Any

from acaas_nova.attestation import chain
from acaas_nova.attestation import ima_replay
from acaas_nova.attestation import whitelist_eval
from acaas_nova.attestation.tpm_structs import ClockInfo


@dataclasses.dataclass(frozen=True)
class NodeState:
    """Decoded verifier state of one node."""

    bank: str = "sha256"
    clock: ClockInfo | None = None
    ima: ima_replay.ImaState | None = None
    evaluations: dict[str, whitelist_eval.Evaluation] = dataclasses.field(
        default_factory=dict
    )
    boot_pcrs: dict[int, bytes] = dataclasses.field(default_factory=dict)
    satisfied: frozenset[chain.WhitelistRef] = frozenset()

    @property
    def ima_count(self) -> int:
        return self.ima.count if self.ima is not None else 0


def _evaluation_to_json(e: whitelist_eval.Evaluation) -> dict:
    return {
        "whitelist": e.whitelist,
        "version": e.version,
        "fingerprint": e.fingerprint,
        "entries": e.entries,
        "offending": [
            [o.index, o.path, o.digest, o.reason] for o in e.offending
        ],
        "boot_reason": e.boot_reason,
    }


def _evaluation_from_json(d: dict) -> whitelist_eval.Evaluation:
    return whitelist_eval.Evaluation(
        d["whitelist"],
        d["version"],
        d["fingerprint"],
        d["entries"],
        tuple(whitelist_eval.Offence(*o) for o in d["offending"]),
        d["boot_reason"],
    )


def dump(state: NodeState) -> dict[str, Any]:
    out: dict[str, Any] = {"bank": state.bank}
    if state.clock is not None:
        c = state.clock
        out["clock"] = {
            "clock": c.clock,
            "reset_count": c.reset_count,
            "restart_count": c.restart_count,
            "safe": bool(c.safe),
        }
    if state.ima is not None:
        out["ima"] = {
            "count": state.ima.count,
            "pcr": state.ima.pcr.hex() if state.ima.pcr else None,
            "boot_aggregate": state.ima.boot_aggregate,
            "boot_verified": state.ima.boot_verified,
        }
    out["evaluations"] = {
        name: _evaluation_to_json(e) for name, e in state.evaluations.items()
    }
    out["boot_pcrs"] = {str(i): v.hex() for i, v in state.boot_pcrs.items()}
    out["satisfied"] = sorted(
        [r.name, r.version, r.fingerprint] for r in state.satisfied
    )
    return out


def load(data: dict[str, Any] | None, bank: str = "sha256") -> NodeState:
    """Decode stored state; anything missing starts from scratch."""
    if not data:
        return NodeState(bank=bank)
    clock = data.get("clock")
    ima = data.get("ima")
    return NodeState(
        bank=data.get("bank", bank),
        clock=ClockInfo(**clock) if clock else None,
        ima=ima_replay.ImaState(
            bank=data.get("bank", bank),
            count=ima["count"],
            pcr=bytes.fromhex(ima["pcr"]) if ima["pcr"] else None,
            boot_aggregate=ima["boot_aggregate"],
            boot_verified=ima["boot_verified"],
        )
        if ima
        else None,
        evaluations={
            name: _evaluation_from_json(e)
            for name, e in data.get("evaluations", {}).items()
        },
        boot_pcrs={
            int(i): bytes.fromhex(v)
            for i, v in data.get("boot_pcrs", {}).items()
        },
        satisfied=frozenset(
            chain.WhitelistRef(*r) for r in data.get("satisfied", [])
        ),
    )
