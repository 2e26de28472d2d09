#!/bin/bash
# devstack plugin for acaas-nova: installs the package into nova's
# environment, creates our database, and enables the ACaaS filter and
# weigher in nova-scheduler.

function install_acaas_nova {
    setup_develop "$ACAAS_NOVA_DIR"
}

function configure_acaas_nova {
    sudo install -d -o "$STACK_USER" "$ACAAS_CONF_DIR"
    recreate_database "$ACAAS_DB_NAME"
    local url
    url=$(database_connection_url "$ACAAS_DB_NAME")
    iniset "$ACAAS_CONF" acaas_database connection "$url"
    iniset "$NOVA_CONF" acaas_database connection "$url"
    iniset "$NOVA_CONF" acaas require_attestation "$ACAAS_REQUIRE_ATTESTATION"
    iniset_multiline "$NOVA_CONF" filter_scheduler available_filters \
        nova.scheduler.filters.all_filters \
        acaas_nova.scheduler.filters.acaas_filter.ACaaSFilter
    local enabled
    enabled=$(iniget "$NOVA_CONF" filter_scheduler enabled_filters)
    iniset "$NOVA_CONF" filter_scheduler enabled_filters \
        "${enabled:+$enabled,}ACaaSFilter"
    iniset "$NOVA_CONF" filter_scheduler weight_classes \
        nova.scheduler.weights.all_weighers,acaas_nova.scheduler.weighers.acaas_weigher.ACaaSWeigher
}

function init_acaas_nova {
    acaas-manage --config-file "$ACAAS_CONF" db sync
}

if is_service_enabled n-sch; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        install_acaas_nova
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        configure_acaas_nova
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        init_acaas_nova
    fi
fi
