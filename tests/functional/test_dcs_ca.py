"""The DC-S CA: workers starting together on one ca_path share one CA."""

import multiprocessing

from cryptography.hazmat.primitives import serialization

from dc_agents.dcs import ca


def _load(path, barrier, out):
    barrier.wait(30)
    _key, cert = ca.load_or_create(path)
    out.put(cert.public_bytes(serialization.Encoding.PEM))


def test_concurrent_first_starts_create_one_ca(tmp_path):
    path = str(tmp_path / "dcs-ca")
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    procs = [
        ctx.Process(target=_load, args=(path, barrier, out)) for _ in range(4)
    ]
    for proc in procs:
        proc.start()
    certs = {out.get(timeout=60) for _ in procs}
    for proc in procs:
        proc.join(30)
        assert proc.exitcode == 0
    assert len(certs) == 1
    _key, cert = ca.load_or_create(path)
    assert {cert.public_bytes(serialization.Encoding.PEM)} == certs
