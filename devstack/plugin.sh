#!/bin/bash
# shellcheck shell=bash
# devstack plugin for acaas-nova.
#
# stack install      our package into nova's environment; swtpm and the TSS
#                    tools where a node has no TPM
# stack post-config  nova.conf (filter, weigher, [acaas], [acaas_database]),
#                    acaas.conf, our database
# stack extra        db sync, the node's swtpm, its white-list, acaas-dcs on
#                    the controller and acaas-dcc on compute nodes
# unstack            stop our services (DC-S, DC-C, swtpm)
# clean              remove our state and configuration, drop the database
#
# Variables and their defaults: devstack/settings, docs/devstack.rst.

ACAAS_FILTER=acaas_nova.scheduler.filters.acaas_filter.ACaaSFilter
ACAAS_WEIGHER=acaas_nova.scheduler.weighers.acaas_weigher.ACaaSWeigher
ACAAS_PLUGIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# True if any acaas-nova service or nova-scheduler runs here.
function acaas_is_needed {
    is_service_enabled acaas-dcs acaas-dcc n-sch
}

function acaas_uses_swtpm {
    [[ "$ACAAS_USE_SWTPM" == "True" ]] && is_service_enabled acaas-dcc
}

function acaas_tcti {
    if [[ "$ACAAS_USE_SWTPM" == "True" ]]; then
        echo "swtpm:host=127.0.0.1,port=$ACAAS_SWTPM_PORT"
    else
        echo "device:$ACAAS_TPM_DEVICE"
    fi
}

# --- install ---------------------------------------------------------------

function install_acaas {
    if is_service_enabled acaas-dcc; then
        # tpm2-pytss (DC-C's TPM access) builds against the TSS libraries.
        install_package tpm2-tools libtss2-dev
        if [[ "$ACAAS_USE_SWTPM" == "True" ]]; then
            install_package swtpm swtpm-tools
        fi
        setup_develop "$ACAAS_DIR" agent
    else
        setup_develop "$ACAAS_DIR"
    fi
}

# --- post-config -----------------------------------------------------------

# Append a value to a comma-separated option unless it is listed already.
function acaas_add_to_list {
    local file=$1 section=$2 option=$3 value=$4 default=$5
    local current
    current=$(iniget "$file" "$section" "$option")
    current=${current:-$default}
    if [[ ",${current// /}," != *",$value,"* ]]; then
        current=${current:+$current,}$value
    fi
    iniset "$file" "$section" "$option" "$current"
}

function configure_acaas_nova {
    local url=$1
    local filters
    # available_filters is multi-valued: keep every line nova (or the
    # operator) wrote and add ours once.
    filters=$(iniget_multiline "$NOVA_CONF" filter_scheduler available_filters)
    filters=${filters:-nova.scheduler.filters.all_filters}
    if [[ " $filters " != *" $ACAAS_FILTER "* ]]; then
        filters="$filters $ACAAS_FILTER"
    fi
    # shellcheck disable=SC2086 # one value per word
    iniset_multiline "$NOVA_CONF" filter_scheduler available_filters $filters
    acaas_add_to_list "$NOVA_CONF" filter_scheduler enabled_filters \
        ACaaSFilter ""
    acaas_add_to_list "$NOVA_CONF" filter_scheduler weight_classes \
        "$ACAAS_WEIGHER" nova.scheduler.weights.all_weighers
    iniset "$NOVA_CONF" acaas require_attestation "$ACAAS_REQUIRE_ATTESTATION"
    iniset "$NOVA_CONF" acaas attestation_ttl "$ACAAS_ATTESTATION_TTL"
    iniset "$NOVA_CONF" acaas_database connection "$url"
}

function acaas_service_credentials {
    local section=$1
    iniset "$ACAAS_CONF" "$section" auth_type password
    iniset "$ACAAS_CONF" "$section" auth_url "$KEYSTONE_SERVICE_URI"
    iniset "$ACAAS_CONF" "$section" username nova
    iniset "$ACAAS_CONF" "$section" password "$SERVICE_PASSWORD"
    iniset "$ACAAS_CONF" "$section" project_name "$SERVICE_PROJECT_NAME"
    iniset "$ACAAS_CONF" "$section" user_domain_name Default
    iniset "$ACAAS_CONF" "$section" project_domain_name Default
    iniset "$ACAAS_CONF" "$section" region_name "$REGION_NAME"
}

function configure_acaas_conf {
    local url=$1
    sudo install -d -o "$STACK_USER" "$ACAAS_CONF_DIR" "$ACAAS_STATE_DIR"
    iniset "$ACAAS_CONF" DEFAULT debug "$ENABLE_DEBUG_LOG_LEVEL"
    iniset "$ACAAS_CONF" DEFAULT transport_url "$(get_transport_url)"
    iniset "$ACAAS_CONF" acaas_database connection "$url"
    iniset "$ACAAS_CONF" acaas_database state_path "$ACAAS_STATE_DIR"
    iniset "$ACAAS_CONF" acaas require_attestation "$ACAAS_REQUIRE_ATTESTATION"
    iniset "$ACAAS_CONF" acaas attestation_ttl "$ACAAS_ATTESTATION_TTL"
    iniset "$ACAAS_CONF" dcs attestation_interval "$ACAAS_ATTESTATION_INTERVAL"
    iniset "$ACAAS_CONF" dcs ek_ca_bundle "$ACAAS_EK_CA_BUNDLE"
    iniset "$ACAAS_CONF" dcs ca_path "$ACAAS_STATE_DIR/dcs-ca"
    if is_service_enabled acaas-dcc; then
        local host
        # DC-C must name the node as nova-compute does.
        host=$(iniget "$NOVA_CPU_CONF" DEFAULT host)
        host=${host:-$(iniget "$NOVA_CONF" DEFAULT host)}
        if [[ -n "$host" ]]; then
            iniset "$ACAAS_CONF" dcc host "$host"
        fi
        iniset "$ACAAS_CONF" dcc tcti "$(acaas_tcti)"
        iniset "$ACAAS_CONF" dcc ima_log_path "$(acaas_ima_log)"
        iniset "$ACAAS_CONF" dcc state_path "$ACAAS_STATE_DIR/dcc"
    fi
    iniset "$ACAAS_CONF" compliance enabled "$ACAAS_COMPLIANCE_ENABLED"
    if [[ -n "$ACAAS_COORDINATION_URL" ]]; then
        iniset "$ACAAS_CONF" coordination backend_url "$ACAAS_COORDINATION_URL"
    else
        inicomment "$ACAAS_CONF" coordination backend_url
    fi
    acaas_service_credentials nova
    acaas_service_credentials placement
}

# The measurement list DC-C reports: swtpm nodes keep their own (the
# kernel's IMA extends the hardware TPM, not swtpm).
function acaas_ima_log {
    if [[ "$ACAAS_USE_SWTPM" == "True" ]]; then
        echo "$ACAAS_SWTPM_DIR/ascii_runtime_measurements"
    else
        echo "$ACAAS_IMA_LOG"
    fi
}

function configure_acaas {
    local url
    url=$(database_connection_url "$ACAAS_DB_NAME")
    if is_service_enabled acaas-dcs; then
        recreate_database "$ACAAS_DB_NAME"
    fi
    if is_service_enabled n-sch; then
        configure_acaas_nova "$url"
    fi
    if is_service_enabled acaas-dcs acaas-dcc; then
        configure_acaas_conf "$url"
    fi
}

# --- extra -----------------------------------------------------------------

# A private swtpm-localca (its own configuration and keys) and one TPM
# state manufactured with an EK certificate from it, once per node.
function acaas_provision_swtpm {
    local ca=$ACAAS_SWTPM_CA_DIR state=$ACAAS_SWTPM_DIR/state
    mkdir -p "$ca" "$state"
    cat >"$ca/localca.conf" <<EOC
statedir = $ca
signingkey = $ca/signkey.pem
issuercert = $ca/issuercert.pem
certserial = $ca/certserial
EOC
    cat >"$ca/localca.options" <<EOC
--platform-manufacturer acaas-devstack
--platform-version 2.1
--platform-model swtpm
EOC
    cat >"$ca/swtpm_setup.conf" <<EOC
create_certs_tool = $(command -v swtpm_localca || echo /usr/bin/swtpm_localca)
create_certs_tool_config = $ca/localca.conf
create_certs_tool_options = $ca/localca.options
active_pcr_banks = sha1,sha256
EOC
    if [[ ! -e "$state/tpm2-00.permall" ]]; then
        swtpm_setup --tpm2 --tpmstate "$state" --config "$ca/swtpm_setup.conf" \
            --create-ek-cert --pcr-banks sha1,sha256 \
            --logfile "$ACAAS_SWTPM_DIR/setup.log" ||
            die $LINENO "swtpm_setup failed, see $ACAAS_SWTPM_DIR/setup.log"
    fi
    # DC-S accepts EK certificates from this CA.
    cat "$ca/swtpm-localca-rootca-cert.pem" "$ca/issuercert.pem" |
        tee "$ACAAS_EK_CA_BUNDLE" >/dev/null
}

function acaas_wait_for_port {
    local port=$1 deadline=$((SECONDS + ACAAS_SWTPM_START_TIMEOUT))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        if ((SECONDS > deadline)); then
            die $LINENO "swtpm did not listen on port $port"
        fi
        sleep 0.2
    done
}

function start_acaas_swtpm {
    acaas_provision_swtpm
    run_process acaas-swtpm "$(command -v swtpm || echo /usr/bin/swtpm) socket --tpm2 \
--tpmstate dir=$ACAAS_SWTPM_DIR/state \
--server type=tcp,port=$ACAAS_SWTPM_PORT,bindaddr=127.0.0.1 \
--ctrl type=tcp,port=$ACAAS_SWTPM_CTRL_PORT,bindaddr=127.0.0.1 \
--flags not-need-init,startup-clear"
    acaas_wait_for_port "$ACAAS_SWTPM_PORT"
    acaas_wait_for_port "$ACAAS_SWTPM_CTRL_PORT"
    local files=() f
    for f in $ACAAS_MEASURED_FILES; do
        [[ -f "$f" ]] && files+=("$f")
    done
    if [[ ${#files[@]} -eq 0 ]]; then
        files=("$ACAAS_PLUGIN_DIR/plugin.sh")
    fi
    "$ACAAS_BIN_DIR/python" "$ACAAS_PLUGIN_DIR/tools/acaas_node_evidence.py" \
        measure --tcti "$(acaas_tcti)" --log "$(acaas_ima_log)" "${files[@]}" ||
        die $LINENO "cannot build the swtpm node's measurement list"
}

# White-list of this node's good state, generated and imported.
function acaas_whitelist_node {
    local log dir=$ACAAS_STATE_DIR/whitelist version
    log=$(acaas_ima_log)
    if [[ ! -r "$log" ]]; then
        warn $LINENO "no IMA measurement list at $log: no white-list for this node"
        return 0
    fi
    mkdir -p "$dir"
    # PCRs first: the list may run ahead of PCR 10, never behind.
    "$ACAAS_BIN_DIR/python" "$ACAAS_PLUGIN_DIR/tools/acaas_node_evidence.py" \
        pcrs --tcti "$(acaas_tcti)" --output "$dir/pcrs.json" ||
        die $LINENO "cannot read this node's PCRs"
    # securityfs is root's to read; the copy is the stack user's.
    # shellcheck disable=SC2024
    sudo cat "$log" >"$dir/measurements"
    version=$(date -u +%Y%m%dT%H%M%S.%N)
    "$ACAAS_BIN_DIR/acaas-manage" --config-file "$ACAAS_CONF" whitelist generate \
        --name "$ACAAS_WHITELIST_NAME" --version "$version" \
        --description "good state of $(hostname -s) at stack time" \
        --log "$dir/measurements" --pcrs "$dir/pcrs.json" \
        --output "$dir/whitelist.json" ||
        die $LINENO "acaas-manage whitelist generate failed"
    "$ACAAS_BIN_DIR/acaas-manage" --config-file "$ACAAS_CONF" whitelist import \
        "$dir/whitelist.json" ||
        die $LINENO "acaas-manage whitelist import failed"
}

# Declare this compute node, bound to its TPM's EK, before its DC-C
# starts: DC-S registers no host name an operator did not declare (an
# undeclared one would wait for acaas-manage host approve).  A node
# declared by an earlier stack is kept.
function acaas_declare_node {
    local host fingerprint ek_type
    host=$(iniget "$ACAAS_CONF" dcc host)
    host=${host:-$(hostname)}
    if "$ACAAS_BIN_DIR/acaas-manage" --config-file "$ACAAS_CONF" \
        host show "$host" >/dev/null 2>&1; then
        return 0
    fi
    ek_type=$(iniget "$ACAAS_CONF" dcc ek_type)
    fingerprint=$("$ACAAS_BIN_DIR/python" \
        "$ACAAS_PLUGIN_DIR/tools/acaas_node_evidence.py" ek-fingerprint \
        --tcti "$(acaas_tcti)" --ek-type "${ek_type:-rsa2048}") ||
        die $LINENO "cannot read this node's EK"
    "$ACAAS_BIN_DIR/acaas-manage" --config-file "$ACAAS_CONF" \
        host add "$host" --ek-fingerprint "$fingerprint" ||
        die $LINENO "acaas-manage host add $host failed"
}

function init_acaas {
    "$ACAAS_BIN_DIR/acaas-manage" --config-file "$ACAAS_CONF" db sync ||
        die $LINENO "acaas-manage db sync failed"
}

function start_acaas {
    if is_service_enabled acaas-dcc && acaas_uses_swtpm; then
        # The node's EK CA goes into DC-S's bundle, which DC-S reads when
        # it starts: provision the swtpm first (it is idempotent).
        acaas_provision_swtpm
    fi
    if is_service_enabled acaas-dcs; then
        init_acaas
        run_process acaas-dcs "$ACAAS_BIN_DIR/acaas-dcs --config-file $ACAAS_CONF"
    fi
    if is_service_enabled acaas-dcc; then
        local group=""
        if acaas_uses_swtpm; then
            start_acaas_swtpm
        else
            group=$ACAAS_TPM_GROUP
        fi
        acaas_whitelist_node
        acaas_declare_node
        run_process acaas-dcc "$ACAAS_BIN_DIR/acaas-dcc --config-file $ACAAS_CONF" "$group"
    fi
}

# --- unstack / clean -------------------------------------------------------

function stop_acaas {
    local service
    # DC-S first: it lets running attestations finish, which would wait
    # for their deadline once DC-C is gone; swtpm last, after DC-C.
    for service in acaas-dcs acaas-dcc acaas-swtpm; do
        stop_process "$service"
    done
}

function acaas_drop_database {
    case "$DATABASE_TYPE" in
    mysql)
        mysql -u"$DATABASE_USER" -p"$DATABASE_PASSWORD" -h"$DATABASE_HOST" \
            -e "DROP DATABASE IF EXISTS $ACAAS_DB_NAME;"
        ;;
    postgresql)
        dropdb -h "$DATABASE_HOST" -U "$DATABASE_USER" --if-exists "$ACAAS_DB_NAME"
        ;;
    esac
}

function cleanup_acaas {
    sudo rm -rf "$ACAAS_STATE_DIR" "$ACAAS_SWTPM_DIR" "$ACAAS_CONF_DIR"
    if is_service_enabled acaas-dcs; then
        acaas_drop_database
    fi
}

# --- phases ----------------------------------------------------------------

if acaas_is_needed; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing acaas-nova"
        install_acaas
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring acaas-nova"
        configure_acaas
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Starting acaas-nova"
        start_acaas
    fi
    if [[ "$1" == "unstack" ]]; then
        stop_acaas
    fi
    if [[ "$1" == "clean" ]]; then
        cleanup_acaas
    fi
fi
