#!/usr/bin/env bash
# Make sure PostgreSQL answers on 127.0.0.1:5432 for the test suite:
# start the local cluster if it is down, install Debian's package if absent.
set -euo pipefail

HOST=127.0.0.1
PORT=5432

answers() { pg_isready -q -h "$HOST" -p "$PORT" 2>/dev/null; }

if command -v pg_isready >/dev/null && answers; then
    echo "PostgreSQL answers on $HOST:$PORT."
else
    if ! command -v pg_ctlcluster >/dev/null; then
        echo "Installing PostgreSQL (Debian package)..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq postgresql >/dev/null
    fi
    version="$(ls /etc/postgresql | sort -V | tail -1)"
    echo "Starting PostgreSQL $version..."
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do
        answers && break
        sleep 1
    done
    answers || { echo "PostgreSQL did not start on $HOST:$PORT" >&2; exit 1; }
fi

# A freshly installed cluster asks for a password over TCP: give the postgres
# role the one the test settings use. A trust-auth cluster ignores it.
if ! PGPASSWORD=postgres psql -h "$HOST" -p "$PORT" -U postgres -d postgres -Atqc "SELECT 1" >/dev/null 2>&1; then
    su postgres -c "psql -Atqc \"ALTER ROLE postgres PASSWORD 'postgres'\"" >/dev/null
fi
PGPASSWORD=postgres psql -h "$HOST" -p "$PORT" -U postgres -d postgres -Atqc "SELECT 1" >/dev/null
