"""DC-C's reader of the IMA measurement list (a growing text file)."""

from dc_agents.dcc import imalog


def test_reads_from_an_entry_and_follows_growth(tmp_path):
    log = tmp_path / "ascii_runtime_measurements"
    log.write_text("a\nb\nc\n")
    reader = imalog.LogReader(str(log))
    assert reader.read_from(0) == "a\nb\nc\n"
    assert reader.read_from(2) == "c\n"
    with open(log, "a") as out:
        out.write("d\ne")  # "e" is still being written
    assert reader.read_from(3) == "d\n"
    assert reader.read_from(1) == "b\nc\nd\n"
    with open(log, "a") as out:
        out.write("\n")
    assert reader.read_from(4) == "e\n"
    assert reader.read_from(5) == ""


def test_skips_forward_to_unseen_entries(tmp_path):
    log = tmp_path / "log"
    log.write_text("".join("entry %d\n" % i for i in range(10)))
    reader = imalog.LogReader(str(log))
    assert reader.read_from(7) == "entry 7\nentry 8\nentry 9\n"
    assert reader.read_from(12) == ""  # fewer entries: a reboot


def test_full_read_after_the_log_started_over(tmp_path):
    log = tmp_path / "log"
    log.write_text("old 0\nold 1\nold 2\n")
    reader = imalog.LogReader(str(log))
    assert reader.read_from(2) == "old 2\n"
    log.write_text("new 0\n")
    assert reader.read_from(0) == "new 0\n"
    assert reader.read_from(1) == ""
