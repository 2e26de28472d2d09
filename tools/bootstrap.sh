#!/usr/bin/env bash
# Create or update the project's virtualenv (.venv) with OpenStack's pins.
#   tools/bootstrap.sh          runtime requirements
#   tools/bootstrap.sh --demo   plus what acaas-demo needs (nova 34, placement,
#                               nova's functional fixtures, tpm2-pytss); needs
#                               libtss2-dev
#   tools/bootstrap.sh --test   plus test requirements (the demo's, pytest ...)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
VENV=${ACAAS_VENV:-.venv}
mode=${1:-runtime}
stamp_input=$(cat requirements.txt upper-constraints.txt setup.cfg)
reqs=(-r requirements.txt)
case "$mode" in
    runtime) ;;
    --demo)
        reqs+=(-r demo-requirements.txt)
        stamp_input+=$(cat demo-requirements.txt)
        ;;
    --test)
        reqs+=(-r test-requirements.txt)
        stamp_input+=$(cat test-requirements.txt demo-requirements.txt)
        ;;
    *)
        echo "usage: tools/bootstrap.sh [--demo | --test]" >&2
        exit 2
        ;;
esac
stamp=$(printf '%s' "$stamp_input" | sha256sum | cut -c1-16)
stamp_file="$VENV/.acaas-${mode#--}-$stamp"
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
