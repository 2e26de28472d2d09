"""The write-behind queue of instance trust records (no database here)."""

import threading

import pytest

from acaas_nova import exception
from acaas_nova.db import records
from acaas_nova.scheduler import recorder

DEADLINE = 10.0


def rec(uuid, **kw):
    return records.InstanceTrust(uuid, kw.pop("project", "pa"), "alice", **kw)


class Sink:
    """A write_batch that records batches and can be held or made to fail."""

    def __init__(self):
        self.batches = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.fail = None

    def __call__(self, batch):
        self.entered.set()
        assert self.release.wait(DEADLINE), "test never released the sink"
        if self.fail is not None:
            raise self.fail
        self.batches.append(list(batch))

    @property
    def written(self):
        return [r.instance_uuid for b in self.batches for r in b]


def test_submit_never_writes_in_the_callers_thread():
    sink = Sink()
    sink.release.clear()
    rq = recorder.TrustRecorder(sink, flush_interval=0.01)
    rq.submit(rec("i1"))  # returns although the writer is held
    assert "i1" in rq.recent()
    assert sink.entered.wait(DEADLINE)
    sink.release.set()
    assert rq.stop(DEADLINE) == 0
    assert sink.written == ["i1"]


def test_many_records_go_out_in_few_batches():
    sink = Sink()
    rq = recorder.TrustRecorder(sink, flush_interval=3600, batch_size=50)
    for i in range(120):
        rq.submit(rec("i%d" % i))
    assert rq.stop(DEADLINE) == 0
    assert sorted(sink.written) == sorted("i%d" % i for i in range(120))
    assert all(len(b) <= 50 for b in sink.batches)
    assert len(sink.batches) <= 4
    assert rq.stats["written"] == 120


def test_newer_record_of_same_instance_replaces_queued_one():
    sink = Sink()
    rq = recorder.TrustRecorder(sink, flush_interval=3600)
    rq.submit(rec("i1"))
    rq.submit(rec("i1", exclusive=True))
    assert rq.pending_count() == 1
    assert rq.recent()["i1"].exclusive
    rq.stop(DEADLINE)
    assert len(sink.written) == 1
    assert sink.batches[0][0].exclusive


def test_failed_write_keeps_records_queued_and_retries():
    sink = Sink()
    sink.fail = exception.DBError(reason="down")
    rq = recorder.TrustRecorder(sink, flush_interval=3600)
    rq.submit(rec("i1"))
    assert rq.flush() is False
    assert rq.pending_count() == 1
    assert "i1" in rq.recent()  # isolation still sees it
    sink.fail = None
    assert rq.flush() is True
    assert rq.pending_count() == 0
    assert sink.written == ["i1"]
    assert rq.stats["failures"] == 1


def test_full_queue_writes_the_overflow_synchronously():
    sink = Sink()
    # The writer thread sleeps (long interval, batch not reached).
    rq = recorder.TrustRecorder(sink, capacity=2, flush_interval=3600)
    rq.submit(rec("i1"))
    rq.submit(rec("i2"))
    rq.submit(rec("i3"))  # full: written by this thread, now
    assert sink.written == ["i3"]
    assert rq.stats["sync_writes"] == 1
    assert rq.pending_count() == 2
    assert set(rq.recent()) == {"i1", "i2", "i3"}
    assert rq.stop(DEADLINE) == 0
    assert sorted(sink.written) == ["i1", "i2", "i3"]


def test_full_queue_and_failing_database_refuses_the_request():
    sink = Sink()
    sink.fail = exception.DBError(reason="down")
    rq = recorder.TrustRecorder(sink, capacity=1, flush_interval=3600)
    rq.submit(rec("i1"))
    with pytest.raises(exception.DBError):
        rq.submit(rec("i2"))
    assert rq.stats["refused"] == 1
    assert "i2" not in rq.recent()
    sink.fail = None
    assert rq.stop(DEADLINE) == 0
    assert sink.written == ["i1"]


def test_stop_flushes_everything_queued():
    sink = Sink()
    rq = recorder.TrustRecorder(sink, flush_interval=3600)
    for i in range(10):
        rq.submit(rec("i%d" % i))
    assert rq.stop(DEADLINE) == 0
    assert len(sink.written) == 10
    # After stop, a record is written at once, never left behind.
    rq.submit(rec("late"))
    assert sink.written[-1] == "late"


def test_stop_reports_what_could_not_be_written(caplog):
    sink = Sink()
    sink.fail = exception.DBError(reason="down")
    rq = recorder.TrustRecorder(sink, flush_interval=3600)
    rq.submit(rec("i1"))
    assert rq.stop(0.0) == 1
    assert "1 instance trust records unwritten: i1" in caplog.text


def test_written_records_leave_the_overlay_after_a_later_snapshot():
    now = [100.0]
    sink = Sink()
    rq = recorder.TrustRecorder(
        sink, flush_interval=3600, clock=lambda: now[0]
    )
    rq.submit(rec("i1"))
    rq.flush()
    assert "i1" in rq.recent()
    rq.loaded(100.0 + recorder.KEEP_AFTER_LOAD)  # too soon: kept
    assert "i1" in rq.recent()
    rq.loaded(100.1 + recorder.KEEP_AFTER_LOAD)
    assert "i1" not in rq.recent()
    rq.stop(DEADLINE)
