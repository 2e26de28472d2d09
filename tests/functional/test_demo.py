"""acaas-demo, run as the README's first command runs it, as a check.

The demo is a subprocess with a deadline; its exit code and RESULT line
must say that every step behaved: every server placed as asked, at least
one moved off the compromised node and none left on it.  On failure the
demo's output is the message.  Real parts: swtpm, nova's in-process cloud,
SQLite (and, in the second test, RabbitMQ and MariaDB with acaas-dcs /
acaas-dcc processes).
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.functional import databases
from tests.functional import realparts

ROOT = Path(__file__).resolve().parents[2]
#: Generous: the demo takes about 40 s on an idle 2-core machine; the
#: deadline only stops a hung run.
DEADLINE = 300
RESULT = re.compile(
    r"^RESULT nodes=(?P<nodes>\d+) servers=(?P<servers>\d+) "
    r"placed_ok=(?P<placed_ok>\d+) untrusted_after_s=(?P<untrusted>[\d.]+) "
    r"moved=(?P<moved>\d+) left_on_bad=(?P<left>\d+) "
    r"seconds=(?P<seconds>[\d.]+)$"
)


def _require_parts():
    for program in ("swtpm", "swtpm_setup", "swtpm_localca"):
        realparts.require_program(program)
    for module in ("tpm2_pytss", "nova", "placement", "wsgi_intercept"):
        realparts.require(
            importlib.util.find_spec(module) is not None,
            "python package %s" % module,
        )


def _run_demo(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("OS_DEBUG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "acaas_nova.demo", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        stdout, stderr = proc.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        # SIGTERM: the demo stops the daemons and swtpms it started.
        proc.terminate()
        try:
            stdout, stderr = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        raise AssertionError(
            "acaas-demo still running after %ds:\n%s%s"
            % (DEADLINE, stdout, stderr)
        ) from None
    output = stdout + stderr
    lines = stdout.strip().splitlines()
    assert proc.returncode == 0, "acaas-demo exited %d:\n%s" % (
        proc.returncode,
        output,
    )
    match = RESULT.match(lines[-1]) if lines else None
    assert match, "no RESULT line last:\n%s" % output
    result = match.groupdict()
    print(lines[-1])
    assert int(result["nodes"]) >= 6, output
    assert int(result["servers"]) > 0, output
    assert result["placed_ok"] == result["servers"], output
    assert int(result["moved"]) > 0, output
    assert result["left"] == "0", output
    return result, stdout


def test_demo_in_process_on_sqlite():
    _require_parts()
    _result, out = _run_demo()
    assert "threads of this process" in out
    assert "every step behaved as described" in out


def test_demo_with_daemon_processes_on_rabbitmq_and_mariadb():
    _require_parts()
    realparts.require_port("127.0.0.1", 5672, "RabbitMQ")
    realparts.require_port("127.0.0.1", 3306, "MariaDB")
    url, drop = databases.create("mysql")
    try:
        _result, out = _run_demo(
            "--transport-url",
            os.environ.get(
                "ACAAS_TEST_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/"
            ),
            "--database-connection",
            url,
        )
    finally:
        drop()
    assert "acaas-dcs/acaas-dcc processes" in out
