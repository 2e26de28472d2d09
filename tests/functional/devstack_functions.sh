# shellcheck shell=bash
# Stand-ins for the devstack functions devstack/plugin.sh calls, for
# tests/functional/test_devstack_plugin.py.
#
# Ini files are edited for real (devstack_ini.py, devstack's semantics);
# every other call is appended to $STUB_DIR/calls as "name|arg|arg...".
# run_process also starts the services listed in $STUB_LAUNCH (pid in
# $STUB_DIR/<service>.pid, output in <service>.log) and stop_process stops
# them, as devstack's systemd units would.

STUB_INI_PY="$(dirname "${BASH_SOURCE[0]}")/devstack_ini.py"

function _ini {
    "$STUB_PYTHON" -I -S "$STUB_INI_PY" "$@"
}

function stub_record {
    local IFS='|'
    echo "$*" >>"$STUB_DIR/calls"
}

function _strip_sudo {
    [[ "$1" == "-sudo" ]]
}

function iniset {
    _strip_sudo "$1" && shift
    _ini set "$@"
}

function iniset_multiline {
    _strip_sudo "$1" && shift
    _ini set-multi "$@"
}

function iniget {
    _ini get "$@"
}

function iniget_multiline {
    _ini get-multi "$@"
}

function inicomment {
    _strip_sudo "$1" && shift
    _ini comment "$@"
}

function ini_has_option {
    _strip_sudo "$1" && shift
    _ini has "$@"
}

function is_service_enabled {
    local service
    for service in "$@"; do
        [[ ",$ENABLED_SERVICES," == *",$service,"* ]] && return 0
    done
    return 1
}

function enable_service {
    local service
    for service in "$@"; do
        [[ ",$DISABLED_SERVICES," == *",$service,"* ]] && continue
        is_service_enabled "$service" || ENABLED_SERVICES+=",$service"
    done
}

function get_python_exec_prefix {
    echo "$STUB_BIN_DIR"
}

function get_transport_url {
    echo "${STUB_TRANSPORT_URL:-rabbit://stackrabbit:secret@127.0.0.1:5672/}"
}

function database_connection_url {
    echo "sqlite:///$STUB_DIR/$1.sqlite"
}

function recreate_database {
    stub_record recreate_database "$@"
    rm -f "$STUB_DIR/$1.sqlite"
}

function install_package {
    stub_record install_package "$@"
}

function pip_install {
    stub_record pip_install "$@"
}

function setup_develop {
    stub_record setup_develop "$@"
}

function run_process {
    is_service_enabled "$1" || return 0
    stub_record run_process "$@"
    if [[ ",$STUB_LAUNCH," == *",$1,"* ]]; then
        bash -c "exec $2" >"$STUB_DIR/$1.log" 2>&1 &
        echo $! >"$STUB_DIR/$1.pid"
    fi
}

function stop_process {
    is_service_enabled "$1" || return 0
    stub_record stop_process "$@"
    if [[ -f "$STUB_DIR/$1.pid" ]]; then
        # Like systemctl stop: TERM, wait for the exit, KILL after 20 s.
        local pid deadline=$((SECONDS + 20))
        pid=$(cat "$STUB_DIR/$1.pid")
        kill "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do
            if ((deadline > 0 && SECONDS > deadline)); then
                echo "stop_process: $1 ignored TERM for 20 s, killed" >&2
                kill -9 "$pid" 2>/dev/null || true
                deadline=0
            fi
            sleep 0.1
        done
        rm -f "$STUB_DIR/$1.pid"
    fi
}

function mysql {
    stub_record mysql "$@"
}

function dropdb {
    stub_record dropdb "$@"
}

function sudo {
    "$@"
}

function echo_summary {
    echo "$@"
}

function warn {
    local line=$1
    shift
    echo "WARNING (line $line): $*" >&2
}

function die {
    local line=$1
    shift
    echo "ERROR (line $line): $*" >&2
    exit 1
}
