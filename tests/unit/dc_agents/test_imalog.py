"""DC-C's reader of the IMA measurement list (a growing text file)."""

import pytest

from acaas_nova import exception
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


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines))


def test_chunks_of_complete_lines_and_whether_more_follow(tmp_path):
    log = tmp_path / "log"
    lines = ["entry %02d" % i for i in range(10)]  # 9 bytes a line
    _write(log, lines)
    reader = imalog.LogReader(str(log))
    chunk = reader.read_chunk(0, 30)  # three lines fit, not four
    assert chunk == ("".join(x + "\n" for x in lines[:3]), True, 3)
    assert reader.read_chunk(3, 27) == (
        "".join(x + "\n" for x in lines[3:6]),
        True,
        3,
    )  # the limit falls on a line end
    assert reader.read_chunk(6, 1000) == (
        "".join(x + "\n" for x in lines[6:]),
        False,
        4,
    )
    assert reader.read_chunk(7, 18) == (
        "entry 07\nentry 08\n",
        True,
        2,
    )
    assert reader.read_chunk(8, 18) == ("entry 08\nentry 09\n", False, 2)
    assert reader.read_chunk(10, 18) == ("", False, 0)
    # Without a limit: everything, as read_from.
    assert reader.read_chunk(0, None).text == reader.read_from(0)


def test_chunks_put_together_are_the_log_for_any_limit(tmp_path):
    log = tmp_path / "log"
    lines = ["%d %s" % (i, "x" * (i * 7 % 23)) for i in range(40)]
    _write(log, lines)
    whole = imalog.LogReader(str(log)).read_from(0)
    for limit in range(1, 80):
        reader = imalog.LogReader(str(log))
        texts, first, more = [], 0, True
        while more:
            chunk = reader.read_chunk(first, limit)
            assert chunk.lines >= 1  # progress, every time
            assert len(chunk.text) <= limit or chunk.lines == 1
            texts.append(chunk.text)
            first += chunk.lines
            more = chunk.more
        assert "".join(texts) == whole, limit
        assert first == len(lines)


def test_a_line_longer_than_the_limit_comes_alone(tmp_path):
    log = tmp_path / "log"
    _write(log, ["short", "L" * 100, "tail"])
    reader = imalog.LogReader(str(log))
    assert reader.read_chunk(0, 10) == ("short\n", True, 1)
    assert reader.read_chunk(1, 10) == ("L" * 100 + "\n", True, 1)
    assert reader.read_chunk(2, 10) == ("tail\n", False, 1)


def test_a_line_being_written_is_neither_sent_nor_more(tmp_path):
    log = tmp_path / "log"
    log.write_text("one\ntwo\nthr")  # "thr..." still being written
    reader = imalog.LogReader(str(log))
    assert reader.read_chunk(0, 4) == ("one\n", True, 1)
    assert reader.read_chunk(1, 4) == ("two\n", False, 1)
    assert reader.read_chunk(1, 6) == ("two\n", False, 1)
    assert reader.read_chunk(2, 2) == ("", False, 0)  # long and unfinished
    with open(log, "a") as out:
        out.write("ee\n")
    assert reader.read_chunk(2, 2) == ("three\n", False, 1)


def test_chunk_limit_must_be_positive(tmp_path):
    log = tmp_path / "log"
    log.write_text("a\n")
    with pytest.raises(exception.ConfigError, match="must be positive"):
        imalog.LogReader(str(log)).read_chunk(0, 0)
