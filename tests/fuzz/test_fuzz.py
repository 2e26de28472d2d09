"""A short budget of every fuzz harness, inside the test suite.

Each harness runs in its own process for ``FUZZ_SECONDS`` (default 3) from
its committed seed corpus; new inputs go to a temporary folder, never into
the repository.  The test fails if the harness reports a finding (an
exception outside the project's own tree), with atheris' output and the
crashing input's path in the message.  Long runs: docs/security.rst.
"""

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

from tests.functional import realparts

HERE = pathlib.Path(__file__).parent
ROOT = HERE.parents[1]
HARNESSES = sorted(p.stem for p in HERE.glob("fuzz_*.py"))
SECONDS = int(os.environ.get("FUZZ_SECONDS", "3"))


def test_every_harness_has_a_seed_corpus():
    assert len(HARNESSES) >= 9
    for name in HARNESSES:
        seeds = HERE / "corpus" / name.removeprefix("fuzz_")
        assert seeds.is_dir() and any(seeds.iterdir()), name


@pytest.mark.parametrize("name", HARNESSES)
def test_harness_short_budget(name, tmp_path):
    realparts.require(
        importlib.util.find_spec("atheris") is not None,
        "python package atheris (test-requirements.txt)",
    )
    seeds = HERE / "corpus" / name.removeprefix("fuzz_")
    new = tmp_path / "new"
    new.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz.%s" % name,
            "-max_total_time=%d" % SECONDS,
            "-timeout=20",
            "-rss_limit_mb=1024",
            "-artifact_prefix=%s/" % tmp_path,
            str(new),
            str(seeds),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
    )
    output = proc.stderr[-4000:]
    assert proc.returncode == 0, "%s found a crash:\n%s" % (name, output)
    runs = re.findall(r"Done (\d+) runs", proc.stderr)
    assert runs and int(runs[-1]) > 0, output
