"""Periodic attestation in rounds: one fanout challenge per partition and
interval, answers collected as casts and judged in batches.

The nodes a worker attests are divided into ``[dcs] round_partitions``
partitions by a hash of their identity (dc_agents.dcs.rounds).  A timer
per owned partition (the timer wheel of dc_agents.dcs.timers, keyed by
partition) opens a round for the partition's registered nodes every
``[dcs] attestation_interval`` and sends it with one fanout cast; the
nodes answer with casts to this worker's own RPC server, which queues
them.  One thread claims each answer in the round book (refusing what
was not asked, already answered or too late), verifies it and records
the outcome through the Attester: unchanged trusted outcomes in batches,
changes at once.  Asks left unanswered at ``[dcs] attestation_deadline``
make their node ``unknown``.  The synchronous per-node path
(Attester.attest) stays for on-demand attestation (``attest_host``).

A partial answer (an IMA log longer than ``[dcc] max_log_bytes``) is not
judged: its quote and entries are verified and the rest of the log is
fetched at once, one chunk per ``quote`` request with a fresh nonce each,
on a follow-up thread (Attester.follow_up), so neither the collecting
thread nor the writers wait for it; the node is not asked in a round
until its follow-up is recorded.
"""

import collections
import concurrent.futures
import datetime
import hashlib
import logging
import queue
import threading

import oslo_messaging

from acaas_nova import context as acaas_context
from acaas_nova.attestation import channel
from acaas_nova.attestation import errors as att_errors
from acaas_nova.db import attestation as attestation_db
from acaas_nova.db import records
from dc_agents import messages
from dc_agents.dcs import attester as attester_mod
from dc_agents.dcs import batchwrite
from dc_agents.dcs import eventlog
from dc_agents.dcs import rounds
from dc_agents.dcs import timers
from dc_agents.dcs import verifier

LOG = logging.getLogger(__name__)
SWEEP_SECONDS = 0.25
_SWEEP = object()  # a queue entry: expire what was due by its time
_MANY = object()  # a queue entry: a list of answers
MAX_BATCH = 500
WRITERS = 8  # threads recording first and changed outcomes
FOLLOW_UPS = 4  # threads fetching the rest of logs sent in chunks


def _ident(key):
    host, hv = key
    return host if host == hv else "%s:%s" % (host, hv)


def round_request(round_id, worker, selection, ask) -> dict:
    """What a round's MAC for one node covers besides the node and its
    nonce (DC-C rebuilds the same from the message it received)."""
    return {
        "round_id": round_id,
        "worker": worker,
        "selection": selection,
        "offset": ask.offset,
    }


class RoundRunner:
    """Attests this worker's nodes in rounds (the timer-wheel interface:
    add, remove, trigger, ``in``, len, start, stop, stats)."""

    def __init__(
        self, conf, attester, round_api, worker, partitions=None, owns=None
    ):
        self.conf = conf
        #: Whether this worker owns a node (the tooz ring); None: all.
        self.owns = owns
        self.att = attester
        self.api = round_api  # .round(partition, message)
        self.worker = worker
        self.partitions = conf.dcs.round_partitions
        owned = partitions or conf.dcs.static_partitions or None
        self.owned = set(range(self.partitions) if owned is None else owned)
        self.book = rounds.RoundBook(worker, conf.dcs.attestation_deadline)
        self.members: dict[int, set] = collections.defaultdict(set)
        self.stats = timers.TimerStats()  # attestations concluded
        self.wheel = timers.TimerWheel(
            self._round_job,
            conf.dcs.attestation_interval,
            conf.dcs.attestation_jitter,
            workers=conf.dcs.attestation_workers,
        )
        self.batch = batchwrite.BatchWriter(
            self._write_batch,
            conf.dcs.batch_write_interval,
            on_missed=lambda key: self.att.forget(*key),
        )
        self._answers: queue.SimpleQueue = queue.SimpleQueue()
        self._recording: set = set()  # answers handed to the writers
        self._writers = concurrent.futures.ThreadPoolExecutor(
            max_workers=WRITERS, thread_name_prefix="round-write"
        )
        self._follow_ups = concurrent.futures.ThreadPoolExecutor(
            max_workers=FOLLOW_UPS, thread_name_prefix="round-follow-up"
        )
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._judge, name="round-judge"),
            threading.Thread(target=self._sweep, name="round-sweep"),
        ]

    # -- the timer-wheel interface --------------------------------------------

    def start(self) -> None:
        self.batch.start()
        for thread in self._threads:
            thread.daemon = True
            thread.start()
        self.wheel.start()

    def stop(self) -> None:
        """Stop opening rounds; judge what has arrived; flush writes."""
        self.wheel.stop()
        self._stop.set()
        self._answers.put(None)
        for thread in self._threads:
            thread.join()
        # Follow-ups see the stop between two chunks and record nothing.
        self._follow_ups.shutdown(wait=True)
        self._writers.shutdown(wait=True)
        self.batch.stop()

    def add(self, key, delay=None) -> None:
        """Attest ``key`` in its partition's rounds (``delay`` 0: at once,
        in a round of its own, e.g. just after registration)."""
        key = tuple(key)
        p = rounds.partition(_ident(key), self.partitions)
        if p not in self.owned:
            return
        with self._lock:
            self.members[p].add(key)
        if p not in self.wheel:
            self.wheel.add(p)
        if delay == 0.0:
            self.trigger(key)

    def trigger(self, key) -> None:
        ctx = acaas_context.get_admin_context()
        p = rounds.partition(_ident(key), self.partitions)
        self._open(ctx, p, [tuple(key)])

    def remove(self, key) -> None:
        key = tuple(key)
        with self._lock:
            self.members[
                rounds.partition(_ident(key), self.partitions)
            ].discard(key)

    def __contains__(self, key) -> bool:
        key = tuple(key)
        p = rounds.partition(_ident(key), self.partitions)
        with self._lock:
            return key in self.members[p]

    def __len__(self) -> int:
        with self._lock:
            return sum(len(m) for m in self.members.values())

    # -- rounds -----------------------------------------------------------

    def _round_job(self, p) -> bool:
        with self._lock:
            keys = list(self.members[p])
        if self.owns is not None:
            # A rebalance may be under way: never ask for a node we lost.
            keys = [k for k in keys if self.owns(k)]
        if keys:
            self._open(acaas_context.get_admin_context(), p, keys)
        return True

    def _open(self, ctx, p, keys) -> None:
        asks = []
        with self._lock:
            recording = set(self._recording)
        for key in keys:
            if key in recording or self.book.is_open(key):
                continue  # still waiting for its answer, or recording it
            prepared = self.att.round_ask(ctx, key)
            if prepared is None:
                self.remove(key)
                continue
            snapshot, offset, full = prepared
            asks.append((key, _ident(key), offset, full, snapshot))
        if not asks:
            return
        round_id, nonce, made = self.book.open(asks)
        if not made:
            # Another thread (the wheel, or a registration's trigger)
            # opened asks for these nodes since is_open was checked.
            return
        if LOG.isEnabledFor(logging.DEBUG):
            for ask in made:
                LOG.debug(
                    "Quote of %s asked by %s, nonce sha256 %s",
                    ask.node
                    if ":" in ask.node
                    else "%s:%s" % (ask.node, ask.node),
                    self.worker,
                    hashlib.sha256(ask.nonce).hexdigest()[:32],
                )
        bank = made[0].context[1].bank
        selection = verifier.selection(bank)
        message = {
            "round_id": round_id,
            "nonce": messages.encode(nonce),
            "worker": self.worker,
            "selection": selection,
            "asks": {ask.node: ask.offset for ask in made},
            # One MAC per node under its own key: proof for the node that
            # DC-S asks (nobody else on the bus can make a node quote).
            "macs": {
                ask.node: channel.mac(
                    ask.context[0].channel_key,
                    "attest_round",
                    ask.node,
                    ask.nonce.hex(),
                    round_request(round_id, self.worker, selection, ask),
                )
                for ask in made
            },
        }
        try:
            self.api.round(p, message)
        except oslo_messaging.MessagingException as exc:
            # The asks expire into 'unknown', like unanswered ones.
            LOG.error(
                "Round %s of partition %d not sent: %s", round_id, p, exc
            )

    # -- answers ----------------------------------------------------------

    def answer(self, round_id, key, raw, error, signed=None) -> None:
        """Queue one answer (from the RPC server's threads), stamped with
        its arrival time: its deadline is checked against that.
        ``signed``: the RPC arguments as sent, with their MAC."""
        self._answers.put(
            (round_id, tuple(key), raw, error, signed, self.book.clock())
        )

    def answers(self, entries) -> None:
        """Queue a batch of answers (from the answers listener) as one
        item: (round_id, key, raw, error, signed) each, stamped with
        the batch's arrival time."""
        now = self.book.clock()
        self._answers.put(
            (
                _MANY,
                [
                    (round_id, tuple(key), raw, error, signed, now)
                    for round_id, key, raw, error, signed in entries
                ],
            )
        )

    def _judge(self) -> None:
        """The collecting thread: answers in arrival order, in batches;
        expiry sweeps come through the same queue, so an answer that
        arrived before a sweep is judged before it."""
        while True:
            item = self._answers.get()
            batch = []
            while True:
                if item is not None and item[0] is _MANY:
                    batch.extend(item[1])
                else:
                    batch.append(item)
                if len(batch) >= MAX_BATCH:
                    break
                try:
                    item = self._answers.get_nowait()
                except queue.Empty:
                    break
            ctx = acaas_context.get_admin_context()
            for entry in batch:
                if entry is None:
                    return
                try:
                    if entry[0] is _SWEEP:
                        self._expire(ctx, entry[1])
                    else:
                        self._judge_one(ctx, *entry)
                except Exception:
                    # One answer's failure must not stop the others.
                    LOG.exception("Judging %s failed", entry[:2])

    def _judge_one(
        self, ctx, round_id, key, raw, error, signed, arrived
    ) -> None:
        ask = self.book.peek(round_id, _ident(key))
        if ask is not None:
            try:
                self.att.round_verify(ask, signed)
            except att_errors.ChannelError as exc:
                # Not the node's answer: ignored, not judged; the node's
                # own answer may still come before the deadline.
                eventlog.record_error(ctx, ask.node, exc)
                return
        try:
            ask = self.book.claim(round_id, _ident(key), arrived)
        except rounds.RoundRefused as exc:
            LOG.debug("Answer dropped unverified: %s", exc)
            return
        if self.att.likely_changed(ask):
            # A first or changed outcome waits for several writes (event,
            # chains): do not hold up the unchanged ones behind it.  The
            # node is not asked again until it is recorded.
            with self._lock:
                self._recording.add(ask.key)
            self._writers.submit(self._record, ask, raw, error)
        else:
            self._record(ask, raw, error, ctx)

    def _record(self, ask, raw, error, ctx=None) -> None:
        key = ask.key
        following = False
        try:
            result = self.att.round_answer(
                ctx or acaas_context.get_admin_context(),
                ask,
                raw,
                error,
                self.batch,
            )
            if isinstance(result, verifier.Progress):
                # The rest of the log, at once, on its own thread; the
                # node stays "recording" (not asked) until it is done.
                with self._lock:
                    self._recording.add(key)
                try:
                    self._follow_ups.submit(self._follow_up, ask, result)
                except RuntimeError:  # stopping: nothing recorded
                    LOG.info("IMA log of %s not fetched: stopping", ask.node)
                else:
                    following = True
                return
        except Exception:
            LOG.exception("Recording the answer of %s failed", ask.node)
            return
        finally:
            if not following:
                with self._lock:
                    self._recording.discard(key)
        self._outcome(key, result)

    def _follow_up(self, ask, progress) -> None:
        try:
            result = self.att.follow_up(
                acaas_context.get_admin_context(),
                ask,
                progress,
                self.batch,
                self._stop.is_set,
            )
        except Exception:
            LOG.exception("Fetching the IMA log of %s failed", ask.node)
            return
        finally:
            with self._lock:
                self._recording.discard(ask.key)
        self._outcome(ask.key, result)

    def _outcome(self, key, result) -> None:
        if result is attester_mod.NEED_FULL:
            self.trigger(key)  # ask again at once, for the whole log
            return
        if result is attester_mod.SUPERSEDED:
            return
        self._concluded(key, result)

    def _concluded(self, key, result) -> None:
        ok = result is not None
        self.stats.record(0.0, ok)
        if not ok or result["status"] == records.TRUST_UNTRUSTED:
            self.remove(key)  # it must register again
            self.batch.discard(key)

    def _sweep(self) -> None:
        last = self.book.clock()
        while not self._stop.wait(SWEEP_SECONDS):
            self._answers.put((_SWEEP, self.book.clock()))
            if self.book.clock() - last >= self.conf.dcs.attestation_interval:
                last = self.book.clock()
                try:
                    ctx = acaas_context.get_admin_context()
                    self.refresh(ctx)
                    self.att.repair_stale(ctx)
                except Exception:
                    LOG.exception("Reading the registered nodes failed")

    def refresh(self, ctx) -> int:
        """Add the registered nodes of owned partitions not known yet:
        a node registered through another worker (any worker serves
        registrations) is attested by its owner within an interval."""
        added = 0
        for key in attestation_db.registered_nodes(ctx):
            p = rounds.partition(_ident(key), self.partitions)
            if p not in self.owned or key in self:
                continue
            if self.owns is not None and not self.owns(key):
                continue
            self.add(key, 0.0)
            added += 1
        return added

    def _expire(self, ctx, now) -> None:
        for ask in self.book.expire(now):
            try:
                self._concluded(ask.key, self.att.round_expired(ctx, ask))
            except Exception:
                LOG.exception("Recording %s as unknown failed", ask.node)

    def _write_batch(self, items):
        ctx = acaas_context.get_admin_context()
        now = datetime.datetime.now(datetime.UTC)
        return attestation_db.attestation_touch_many(ctx, items, now)
