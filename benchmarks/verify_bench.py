"""Attestation verification throughput, against keylime in the same run.

Measures, on one core (one Python thread):

* quote verification (signature, nonce, PCR selection and digest, clock)
  for RSA-2048 and ECC P-256 AKs, quotes/s;
* IMA measurement-list verification (parse, template hashes, replay to
  PCR 10, boot_aggregate, white-list) of 1,000 and 10,000 entries, full
  and incremental (10 new entries on a 10,000-entry log);
* the same inputs through keylime's own functions
  (``keylime.tpm.tpm_util.checkquote`` and
  ``keylime.ima.ima.process_measurement_list`` with a runtime policy
  allowing every file), installed per benchmarks/requirements.txt.

Quotes come from a real swtpm when swtpm and swtpm_setup are installed
(``--source swtpm``, the default if they are), else from ``cryptography``
keys with hand-marshalled TPMS_ATTEST (``--source soft``).

Run:  .venv/bin/python benchmarks/verify_bench.py [--quick]
The last line is machine-readable:
RESULT quotes_per_s=<x> entries_per_s=<y> incremental_ms=<z>
ratio_vs_keylime=<r> ratio_vs_signature_floor=<f>  (RSA quotes/s; full
10,000-entry IMA entries/s; IMA work of an incremental re-attestation; the
lower of the quote and the IMA ratio against keylime; RSA-2048 quotes/s
divided by bare ``cryptography`` RSA-2048 PKCS#1 v1.5 verifies/s of the
same signatures in the same run, best passes of the two interleaved --
the physical floor of one quote).
"""

import argparse
import hashlib
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from acaas_nova.attestation import ima_replay  # noqa: E402
from acaas_nova.attestation import quote as q  # noqa: E402
from acaas_nova.attestation import tpm_structs as ts  # noqa: E402
from acaas_nova.attestation import whitelist  # noqa: E402
from acaas_nova.attestation import whitelist_eval  # noqa: E402
from acaas_nova.evidence import ima_build  # noqa: E402
from acaas_nova.evidence import tpm_build  # noqa: E402
from benchmarks import keylime_baseline  # noqa: E402

SELECTION = q.DEFAULT_SELECTION  # sha256 PCRs 0-10: keylime's one bank


def timed(fn, min_seconds):
    """Calls of fn per second, repeating until min_seconds have passed."""
    fn()  # warm up
    count, start = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return count / elapsed


# -- quotes ---------------------------------------------------------------


def quotes_soft(n):
    """{kind: (ak_tpm2b, ak_pem, [(nonce, attest, sig, pcrs)])}."""
    out = {}
    for kind, key, scheme in (
        ("RSA-2048", rsa.generate_private_key(65537, 2048), ts.ALG_RSASSA),
        ("ECC P-256", ec.generate_private_key(ec.SECP256R1()), ts.ALG_ECDSA),
    ):
        items = []
        for i in range(n):
            nonce = os.urandom(20)
            pcrs = {
                "sha256": {
                    p: hashlib.sha256(b"%d-%d" % (i, p)).digest()
                    for p in SELECTION["sha256"]
                }
            }
            attest = tpm_build.quote_attest(
                nonce, list(SELECTION.items()), pcrs, clock=1000 + i
            )
            items.append(
                (nonce, attest, tpm_build.sign(key, attest, scheme), pcrs)
            )
        out[kind] = (
            tpm_build.tpm2b_public(key.public_key(), scheme=scheme),
            key.public_key(),
            items,
        )
    return out


def quotes_swtpm(n):
    """The same, quoted by a real swtpm (one provisioned for this run)."""
    from acaas_nova.tpm import keys
    from acaas_nova.tpm.device import TPMDevice
    from tests.functional.swtpm import SwtpmCA
    from tests.functional.swtpm import SwtpmFactory

    base = Path(tempfile.mkdtemp(prefix="acaas-bench"))
    factory = None
    try:
        ca = SwtpmCA(base / "ca")
        factory = SwtpmFactory(base / "tpm", ca, None)
        tpm = factory.new()
        out = {}
        with TPMDevice(tpm.tcti) as dev:
            for kind, ak_kind in (
                ("RSA-2048", "rsa2048"),
                ("ECC P-256", "ecc256"),
            ):
                blob = keys.create_ak(dev, ak_kind)
                items = []
                for i in range(n):
                    dev.pcr_extend(
                        10, {"sha256": hashlib.sha256(b"%d" % i).digest()}
                    )
                    nonce = os.urandom(20)
                    ev = keys.quote(dev, blob, nonce, SELECTION)
                    items.append((nonce, ev.attest, ev.signature, ev.pcrs))
                key = q.AttestationKey.from_tpm2b_public(blob.public).key
                out[kind] = (blob.public, key, items)
        return out
    finally:
        if factory is not None:
            factory.stop_all()
        shutil.rmtree(base, ignore_errors=True)


def ours_quotes(ak_public, items, seconds):
    ak = q.AttestationKey.from_tpm2b_public(ak_public)

    def run():
        previous = None
        for nonce, attest, sig, pcrs in items:
            previous = q.verify_quote(
                ak, attest, sig, pcrs, nonce, SELECTION, previous
            ).clock_info

    return timed(run, seconds) * len(items)


# -- IMA logs -----------------------------------------------------------------


def make_log(entries):
    """(LogBuilder, boot PCRs, white-list) for a log of ``entries``."""
    boot = {
        "sha256": {
            i: hashlib.sha256(b"boot%d" % i).digest() for i in range(10)
        }
    }
    log = ima_build.LogBuilder(("sha256",))
    log.add_boot_aggregate(boot)
    for i in range(entries - 1):
        log.add_file("/usr/lib/module %d.so" % i, b"content %d" % i)
    wl = whitelist.generate("bench", "1", log.text(), boot)
    return log, boot, wl


def ours_ima_full(log, boot, wl):
    text = log.text()
    pcr10 = log.pcr10["sha256"]

    def run():
        done = ima_replay.verify(text, pcr10, boot_pcrs=boot)
        evals = whitelist_eval.evaluate(
            [wl],
            done.accepted,
            whitelist_eval.BootState(done.state.boot_aggregate, boot),
        )
        assert evals["bench"].satisfied

    return timed(run, 1.0) * len(log)


def ours_ima_incremental(log, boot, wl, base):
    """Seconds per re-attestation of the entries after ``base``."""
    pcr10 = ima_build.pcrs_after(("sha256",), log.extends, base)["sha256"]
    first = ima_replay.verify(_head(log, base), pcr10, boot_pcrs=boot)
    boot_state = whitelist_eval.BootState(first.state.boot_aggregate, boot)
    evals = whitelist_eval.evaluate([wl], first.accepted, boot_state)
    new_text = log.text(base)
    final = log.pcr10["sha256"]

    def run():
        done = ima_replay.verify(new_text, final, first.state)
        out = whitelist_eval.evaluate([wl], done.accepted, boot_state, evals)
        assert out["bench"].satisfied and done.state.count == len(log)

    return 1.0 / timed(run, 1.0)


def _head(log, count):
    return "".join(line + "\n" for line in log.lines[:count])


# -- main ---------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    have_swtpm = shutil.which("swtpm") and shutil.which("swtpm_setup")
    parser.add_argument(
        "--source",
        choices=("swtpm", "soft"),
        default="swtpm" if have_swtpm else "soft",
    )
    parser.add_argument("--quotes", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    seconds = 0.5 if args.quick else args.seconds
    logging.disable(logging.WARNING)
    keylime_missing = keylime_baseline.load()
    if keylime_missing:
        print("keylime baseline %s" % keylime_missing)

    print(
        "quotes: %d distinct per AK from %s"
        % (
            args.quotes,
            {
                "swtpm": "a real swtpm",
                "soft": "cryptography keys (hand-marshalled TPMS_ATTEST)",
            }[args.source],
        )
    )
    quotes = (quotes_swtpm if args.source == "swtpm" else quotes_soft)(
        args.quotes
    )
    ratios = []
    results = {}
    for kind, (public, key, items) in quotes.items():
        ours = ours_quotes(public, items, seconds)
        line = "%-10s ours %9.0f quotes/s" % (kind, ours)
        if not keylime_missing:
            theirs = timed(
                keylime_baseline.quote_runner(key, items), seconds
            ) * len(items)
            ratios.append(ours / theirs)
            line += "   keylime %9.0f quotes/s   ratio %.2f" % (
                theirs,
                ours / theirs,
            )
        print(line)
        results[kind] = ours
    sig_only = _signature_only(quotes["RSA-2048"], seconds)
    print(
        "RSA-2048 signature check alone: %.0f/s (%.1f us)"
        % (sig_only, 1e6 / sig_only)
    )
    ours_best, bare = _floor(quotes["RSA-2048"], seconds)
    floor_ratio = ours_best / bare
    print(
        "RSA-2048 bare cryptography verify: %.0f/s (%.1f us); our quote "
        "verification, interleaved with it: %.0f/s; ratio to that floor: "
        "%.2f" % (bare, 1e6 / bare, ours_best, floor_ratio)
    )

    ima_ratio = None
    for size in (1000, 10000):
        log, boot, wl = make_log(size)
        ours = ours_ima_full(log, boot, wl)
        line = "IMA %5d entries full: ours %9.0f entries/s" % (size, ours)
        if not keylime_missing:
            theirs = timed(keylime_baseline.ima_full_runner(log), 1.0) * len(
                log
            )
            ima_ratio = ours / theirs
            line += "   keylime %9.0f entries/s   ratio %.2f" % (
                theirs,
                ima_ratio,
            )
        print(line)
        results["ima"] = ours
    log, boot, wl = make_log(10010)
    incr = ours_ima_incremental(log, boot, wl, 10000)
    line = "IMA 10 new on 10,000: ours %.3f ms" % (incr * 1e3)
    if not keylime_missing:
        theirs = 1.0 / timed(
            keylime_baseline.ima_incremental_runner(log, 10000), 1.0
        )
        line += "   keylime %.3f ms   ratio %.2f" % (
            theirs * 1e3,
            theirs / incr,
        )
    print(line)
    print(
        "incremental IMA work vs one RSA signature check: %.2fx"
        % (incr * sig_only)
    )
    if ima_ratio is not None:
        ratios.append(ima_ratio)
    ratio = min(ratios) if ratios else float("nan")
    print(
        "RESULT quotes_per_s=%.0f entries_per_s=%.0f incremental_ms=%.3f "
        "ratio_vs_keylime=%.2f ratio_vs_signature_floor=%.2f"
        % (results["RSA-2048"], results["ima"], incr * 1e3, ratio, floor_ratio)
    )


def _signature_only(quote_set, seconds):
    public, _key, items = quote_set
    ak = q.AttestationKey.from_tpm2b_public(public)
    parsed = [
        (attest, ts.parse_signature(sig)) for _n, attest, sig, _p in items
    ]

    def run():
        for attest, sig in parsed:
            q.verify_signature(ak, attest, sig)

    return timed(run, seconds) * len(items)


def _floor(quote_set, seconds):
    """(our RSA-2048 quotes/s, bare ``cryptography`` RSA-2048 PKCS#1 v1.5
    / SHA-256 verifies/s of the same signatures).

    The two are timed in alternating passes over the same quotes and the
    fastest pass of each is kept, so a busy machine slows both alike and
    the ratio stays meaningful.
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    public, _key, items = quote_set
    ak = q.AttestationKey.from_tpm2b_public(public)
    pad, algo = padding.PKCS1v15(), hashes.SHA256()
    raw = [(a, ts.parse_signature(s).rsa_sig) for _n, a, s, _p in items]

    def ours():
        previous = None
        for nonce, attest, sig, pcrs in items:
            previous = q.verify_quote(
                ak, attest, sig, pcrs, nonce, SELECTION, previous
            ).clock_info

    def bare():
        for attest, sig in raw:
            ak.key.verify(sig, attest, pad, algo)

    best = {ours: float("inf"), bare: float("inf")}
    deadline = time.perf_counter() + 2 * seconds
    while time.perf_counter() < deadline:
        for fn in (ours, bare):
            start = time.perf_counter()
            fn()
            best[fn] = min(best[fn], time.perf_counter() - start)
    return len(items) / best[ours], len(items) / best[bare]


if __name__ == "__main__":
    main()
