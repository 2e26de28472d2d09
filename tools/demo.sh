#!/usr/bin/env bash
# The demo: acaas-nova end to end, on the embedded defaults.
#
# Installs swtpm and the TSS library (apt-get, as root or with sudo), builds
# .venv with what the demo needs (nova 34 and its functional fixtures,
# placement, tpm2-pytss) and runs acaas-demo: six compute nodes with their
# own swtpm register with DC-S and are attested; tenants boot servers
# through nova's API with location, white-list, isolation and
# stored-specification requirements; one node is compromised, fenced, and
# its servers are live-migrated off it.  Exits non-zero if any step does
# not behave as described; the last line is the RESULT line.
#
# Extra arguments go to acaas-demo, e.g.
#   tools/demo.sh --transport-url rabbit://guest:guest@127.0.0.1:5672/
# runs DC-S and every DC-C as acaas-dcs/acaas-dcc processes.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(swtpm swtpm-tools libtss2-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq \
        "${missing[@]}" >/dev/null
fi
tools/bootstrap.sh --demo
VENV=${ACAAS_VENV:-.venv}
exec "$VENV/bin/acaas-demo" "$@"
