#!/usr/bin/env bash
# Install the system packages ticketdb's tests and demo need, only when missing:
# mariadbd (the sandbox server), redis-server (cache tests), sysbench (the write-path baseline of
# `ticketdb bench`'s workflow_throughput scenario), galera-4 + rsync (the local Galera cluster of
# `ticketdb cluster` and the galera tests), percona-toolkit (pt-online-schema-change: the online
# copy `migrate up` runs for a blocking ALTER of a big table, docs/online-ddl.md). Safe to re-run.
set -euo pipefail

missing=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
have mariadbd || have mysqld || missing+=(mariadb-server)
have mariadb-install-db || have mysqld || missing+=(mariadb-server)
have redis-server || missing+=(redis-server)
have sysbench || missing+=(sysbench)
[ -e /usr/lib/galera/libgalera_smm.so ] || [ -e /usr/lib/galera-4/libgalera_smm.so ] \
    || missing+=(galera-4)
have rsync || missing+=(rsync)
have pt-online-schema-change || missing+=(percona-toolkit)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
# de-duplicate
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "system-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "system-deps: need root (or sudo) to install ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
# A policy-rc.d that says "no" keeps the packages from starting system-wide servers we do not
# use (and from failing where there is no init system); ticketdb starts its own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
