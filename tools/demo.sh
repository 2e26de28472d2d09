#!/usr/bin/env bash
# The demo: a scripted acaas-manage session on the embedded SQLite default.
# An operator describes the infrastructure (locations, distances, physical
# domains with capabilities, a backup domain, hosts and their properties),
# builds a white-list from a known-good platform's measurement list, stores
# a tenant's requirement specification, and asks the scheduler why each
# host would or would not take the tenant's server.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
VENV=${ACAAS_VENV:-.venv}
work=$(mktemp -d -t acaas-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/acaas.conf" <<CONF
[acaas_database]
state_path = $work/state
CONF

run() {
    printf '\n$ acaas-manage %s\n' "$*"
    "$VENV/bin/acaas-manage" --config-file "$work/acaas.conf" "$@"
}

"$VENV/bin/python" - "$work" <<'PY'
# A known-good platform's IMA measurement list and PCR values, built the way
# the kernel builds them (the demo machine has no TPM or IMA of its own).
import hashlib, json, sys
from acaas_nova.evidence import ima_build
work = sys.argv[1]
pcrs = {i: hashlib.sha256(b"boot stage %d" % i).digest() for i in range(10)}
log = ima_build.LogBuilder(("sha256",))
log.add_boot_aggregate({"sha256": pcrs})
for path in ("/usr/bin/python3.11", "/usr/bin/nova-compute",
             "/etc/nova/nova.conf", "/usr/lib/libssl.so.3"):
    log.add_file(path, b"contents of " + path.encode())
open(work + "/ima.log", "w").write(log.text())
values = {str(i): v.hex() for i, v in pcrs.items()}
values["10"] = log.pcr10["sha256"].hex()
json.dump({"sha256": values}, open(work + "/pcrs.json", "w"))
PY

run db sync
run location create UK --description "London data centre"
run location create FR --description "Paris data centre"
run location create DE --description "Frankfurt (federated partner)"
run location distance set UK FR 3
run location distance set FR DE 5
run domain create lon-1 --location UK --capability gpu=yes --capability arch=x86_64
run domain create par-1 --location FR --capability gpu=yes --capability arch=x86_64
run domain create fra-fed --location DE --source emergency --capability gpu=no
run domain backup add lon-1 par-1 --priority 1
run host add compute-1 --domain lon-1
run host add compute-2 --domain par-1
run host add compute-3 --domain fra-fed
run add_properties compute-1 rack=r12 pdu=a
run get_properties compute-1
run whitelist generate --name compute --version 2026.11 \
    --log "$work/ima.log" --pcrs "$work/pcrs.json" -o "$work/compute.json"
run whitelist import "$work/compute.json"
run whitelist list
run requirement spec create gold --project demo \
    location=UK max_distance=3 capability:gpu=yes whitelist=compute
run requirement spec show gold --project demo
run domain list
run host show compute-1
printf '\n# Fail closed: no node has been attested by DC-S yet.\n'
run schedule explain --project demo --hint acaas:requirement=gold
printf '\n# Bad input gets one line and exit code 2:\n'
run domain backup add lon-1 lon-1 --priority 2 || echo "(exit $?)"
run location distance set UK DE -1 || echo "(exit $?)"
printf '\nDemo finished: the state lived in a temporary SQLite file.\n'
