#!/usr/bin/env bash
# Set up everything and run the whole test suite: lint, unit tests and the
# functional tests against real MariaDB, PostgreSQL, RabbitMQ, swtpm and an
# in-process nova.  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/services.sh
tools/bootstrap.sh --test
VENV=${ACAAS_VENV:-.venv}
echo "== ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
echo "== pytest"
exec "$VENV/bin/pytest" tests "$@"
