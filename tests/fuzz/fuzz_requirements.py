"""Fuzz requirement hint / extra spec values through the scheduler's
pure parser (acaas_nova.scheduler.requirements).

Keys are drawn from the vocabulary (and beyond); values are what nova's
API hands over (strings or lists of strings) and, less often, other JSON
types a client could send.
"""

import atheris

with atheris.instrument_imports():
    from acaas_nova.scheduler import requirements

from tests.fuzz import harness

KEYS = [
    "acaas:location",
    "acaas:max_distance",
    "acaas:whitelist",
    "acaas:exclude_users",
    "acaas:exclude_projects",
    "acaas:isolation",
    "acaas:allow_emergency",
    "acaas:requirement",
    "acaas:capability:cpu",
    "location",
    "max_distance",
]


def _value(fdp):
    kind = fdp.ConsumeIntInRange(0, 9)
    if kind < 6:
        return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 300))
    if kind < 9:
        return [
            fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 40))
            for _ in range(fdp.ConsumeIntInRange(0, 5))
        ]
    return [fdp.ConsumeInt(4), None, {}, 1.5][fdp.ConsumeIntInRange(0, 3)]


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    values = {}
    for _ in range(fdp.ConsumeIntInRange(0, 6)):
        if fdp.ConsumeBool():
            key = KEYS[fdp.ConsumeIntInRange(0, len(KEYS) - 1)]
        else:
            key = "acaas:" + fdp.ConsumeUnicodeNoSurrogates(20)
        values[key] = _value(fdp)
    reqs = requirements.parse(values, allow_reference=fdp.ConsumeBool())
    requirements.describe(reqs)


if __name__ == "__main__":
    harness.main(one_input)
