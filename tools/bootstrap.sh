#!/usr/bin/env bash
# Create or update the project's virtualenv (.venv) with OpenStack's pins.
#   tools/bootstrap.sh          runtime requirements (enough for the demo)
#   tools/bootstrap.sh --test   plus test requirements (nova 34, placement,
#                               tpm2-pytss, pytest ...); needs libtss2-dev
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
VENV=${ACAAS_VENV:-.venv}
stamp_input=$(cat requirements.txt upper-constraints.txt setup.cfg)
reqs=(-r requirements.txt)
if [ "${1:-}" = "--test" ]; then
    reqs+=(-r test-requirements.txt)
    stamp_input+=$(cat test-requirements.txt)
fi
stamp=$(printf '%s' "$stamp_input" | sha256sum | cut -c1-16)
stamp_file="$VENV/.acaas-${1:-runtime}-$stamp"
if [ -e "$stamp_file" ]; then
    exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel
"$VENV/bin/python" -m pip install -q -c upper-constraints.txt "${reqs[@]}"
"$VENV/bin/python" -m pip install -q --no-deps -e .
touch "$stamp_file"
