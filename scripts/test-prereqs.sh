#!/usr/bin/env bash
# Checks (and in CI, installs) what the test suite needs beyond npm packages:
#  - as root: an unprivileged account for the embedded PostgreSQL server (pgstore itself never
#    creates one; in CI this script creates the conventional `postgres` system account);
#  - the PostgreSQL 15 client programs (psql, pg_dump, pg_restore, and pg_basebackup for the
#    test primary + standby of test/helpers/standby.ts) from Debian's postgresql-client;
#  - pgBackRest (Debian's pgbackrest, 2.45 on bookworm) for `pgstore backup --engine pgbackrest`.
set -euo pipefail

say() { printf 'test-prereqs: %s\n' "$*" >&2; }
in_ci() { [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; }

if [ "$(id -u)" = 0 ]; then
  account="${PGSTORE_SERVER_USER:-postgres}"
  if ! getent passwd "$account" >/dev/null 2>&1; then
    if in_ci && [ "$account" = postgres ]; then
      say "creating the system account 'postgres' for the embedded server (CI only)"
      useradd --system --home-dir /var/lib/postgresql --no-create-home --shell /usr/sbin/nologin postgres
    else
      say "running as root, the embedded server needs an unprivileged account '$account'."
      say "create one: useradd --system --home-dir /var/lib/postgresql postgres   (or set PGSTORE_SERVER_USER)"
      exit 1
    fi
  fi
fi

need_client=0
for tool in psql pg_dump pg_restore pg_basebackup; do
  command -v "$tool" >/dev/null 2>&1 || need_client=1
done
if [ "$need_client" = 1 ]; then
  if in_ci && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing postgresql-client (psql, pg_dump, pg_restore, pg_basebackup)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
  else
    say "psql, pg_dump, pg_restore and pg_basebackup (PostgreSQL 15 or newer) are needed: apt-get install postgresql-client"
    exit 1
  fi
fi

if ! command -v pgbackrest >/dev/null 2>&1; then
  if in_ci && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing pgbackrest (physical backups and point-in-time restores)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbackrest >/dev/null
  else
    say "pgbackrest (2.45 or newer) is needed for the physical-backup tests: apt-get install pgbackrest"
    exit 1
  fi
fi
