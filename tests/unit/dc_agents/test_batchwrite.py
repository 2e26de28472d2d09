"""The batch writer: one flush for many items, newest item wins, stop
flushes, failed flushes keep their items, missed keys are reported."""

import threading

from dc_agents.dcs import batchwrite


class Sink:
    def __init__(self, missed=(), fail=0):
        self.batches = []
        self.missed = set(missed)
        self.fail = fail
        self.event = threading.Event()

    def __call__(self, items):
        if self.fail:
            self.fail -= 1
            raise RuntimeError("database away")
        self.batches.append(list(items))
        self.event.set()
        return [i[0] for i in items if i[0] in self.missed]


def test_flush_writes_all_in_one_batch():
    sink = Sink()
    writer = batchwrite.BatchWriter(sink, interval=60)
    for i in range(5):
        writer.add(i, (i, "t"))
    assert len(writer) == 5
    assert writer.flush() == 5
    assert sink.batches == [[(i, "t") for i in range(5)]]
    assert len(writer) == 0 and writer.flush() == 0


def test_newest_item_per_key_wins():
    sink = Sink()
    writer = batchwrite.BatchWriter(sink, interval=60)
    writer.add("a", ("a", 1))
    writer.add("a", ("a", 2))
    writer.flush()
    assert sink.batches == [[("a", 2)]]


def test_discard():
    sink = Sink()
    writer = batchwrite.BatchWriter(sink, interval=60)
    writer.add("a", ("a", 1))
    writer.add("b", ("b", 1))
    writer.discard("a")
    writer.flush()
    assert sink.batches == [[("b", 1)]]


def test_missed_keys_reported():
    sink = Sink(missed={"b"})
    told = []
    writer = batchwrite.BatchWriter(sink, interval=60, on_missed=told.append)
    writer.add("a", ("a", 1))
    writer.add("b", ("b", 1))
    assert writer.flush() == 1
    assert told == ["b"] and writer.written == 1


def test_failed_flush_keeps_items_newer_win():
    sink = Sink(fail=1)
    writer = batchwrite.BatchWriter(sink, interval=60)
    writer.add("a", ("a", 1))
    assert writer.flush() == 0
    writer.add("a", ("a", 2))  # arrived after the failure: newer
    writer.add("b", ("b", 1))
    assert writer.flush() == 2
    assert sorted(sink.batches[0]) == [("a", 2), ("b", 1)]


def test_stop_flushes_pending():
    sink = Sink()
    writer = batchwrite.BatchWriter(sink, interval=3600)
    writer.start()
    writer.add("a", ("a", 1))
    writer.stop()
    assert sink.batches == [[("a", 1)]]


def test_thread_flushes_after_interval():
    sink = Sink()
    writer = batchwrite.BatchWriter(sink, interval=0.01)
    writer.start()
    try:
        writer.add("a", ("a", 1))
        assert sink.event.wait(30), "no flush within 30 s"
    finally:
        writer.stop()
    assert sink.batches[0] == [("a", 1)]


def test_full_batch_flushes_without_waiting():
    sink = Sink()
    writer = batchwrite.BatchWriter(sink, interval=3600, max_items=3)
    writer.start()
    try:
        for i in range(3):
            writer.add(i, (i,))
        assert sink.event.wait(30), "a full batch was not flushed"
    finally:
        writer.stop()
    assert len(sink.batches[0]) == 3
