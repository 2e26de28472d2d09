#!/usr/bin/env bash
# Install (apt-get, as root) and start what the functional tests need:
# swtpm and the TSS libraries, MariaDB, PostgreSQL, RabbitMQ and Redis (the
# DC-S workers' coordination backend).  A service is started only if nothing
# listens on its port yet.
set -euo pipefail

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
    for _ in $(seq 1 60); do
        listening "$1" && return 0
        sleep 1
    done
    echo "services: $2 did not come up on port $1" >&2
    return 1
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(swtpm swtpm-tools tpm2-tools libtss2-dev pkg-config shellcheck)
listening 3306 || command -v mariadbd >/dev/null || packages+=(mariadb-server)
listening 5432 || ls /etc/postgresql >/dev/null 2>&1 || packages+=(postgresql)
listening 5672 || command -v rabbitmq-server >/dev/null \
    || packages+=(rabbitmq-server)
listening 6379 || command -v redis-server >/dev/null || packages+=(redis-server)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq \
        "${missing[@]}" >/dev/null
fi

if ! listening 3306; then
    as_root mkdir -p /run/mysqld
    as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
    as_root start-stop-daemon --start --oknodo --background \
        --exec /usr/sbin/mariadbd -- --user=mysql
    wait_port 3306 MariaDB
    # root over TCP without password, as the tests expect
    as_root mariadb -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA \
mysql_native_password USING PASSWORD('') OR unix_socket" 2>/dev/null || true
fi
if ! listening 5432; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    if ! grep -q "acaas-nova" "$hba"; then
        as_root sed -i '1i host all all 127.0.0.1/32 trust # acaas-nova' \
            "$hba"
    fi
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_port 5432 PostgreSQL
fi
if ! listening 5672; then
    as_root rabbitmq-server -detached
    wait_port 5672 RabbitMQ
fi
if ! listening 6379; then
    # Local only, no persistence: the tests keep nothing in Redis.
    as_root redis-server --bind 127.0.0.1 --port 6379 --daemonize yes \
        --save "" --appendonly no >/dev/null
    wait_port 6379 Redis
fi
echo "services: swtpm, MariaDB, PostgreSQL, RabbitMQ and Redis are ready"
