#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks, with apt-get; shared by scripts/dev.sh and .ci/run.
#
#   scripts/install-prerequisites.sh WHAT...
#
# WHAT is any of:
#   postgresql   the PostgreSQL server binaries (initdb, pg_ctl, ...), found in /usr/lib/postgresql/*/bin
#                or on PATH; the Debian package postgresql
#   wrk          the benchmark's load generator; the Debian package wrk
#
# What is already there is left alone; when nothing is missing this does nothing. Otherwise it runs
# apt-get update and apt-get install (as root, or with sudo), then checks again. On a machine without
# apt-get, or without root and sudo, it stops and names what is missing. Exit status: 0 when everything
# asked for is there, 1 otherwise, 2 on a bad argument.
set -euo pipefail

die() { printf 'install-prerequisites: %s\n' "$*" >&2; exit 1; }

present() { # what
  case "$1" in
    postgresql) compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 ;;
    wrk) command -v wrk >/dev/null 2>&1 ;;
  esac
}

describe() { # what
  case "$1" in
    postgresql) echo "postgresql (the PostgreSQL server binaries: initdb, pg_ctl)" ;;
    wrk) echo "wrk (the benchmark's load generator)" ;;
  esac
}

[ $# -gt 0 ] || { printf 'usage: %s postgresql|wrk...\n' "$0" >&2; exit 2; }
for what in "$@"; do
  case "$what" in
    postgresql | wrk) ;;
    *) printf 'install-prerequisites: unknown prerequisite "%s" (known: postgresql, wrk)\n' "$what" >&2; exit 2 ;;
  esac
done

missing=()
for what in "$@"; do present "$what" || missing+=("$what"); done
[ ${#missing[@]} -gt 0 ] || exit 0

names() { for what in "$@"; do printf '\n  %s' "$(describe "$what")"; done; }

command -v apt-get >/dev/null 2>&1 \
  || die "missing:$(names "${missing[@]}")
this machine has no apt-get: install them with its package manager."

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 \
    || die "missing:$(names "${missing[@]}")
installing them with apt-get needs root, and sudo is not installed: run this as root."
  SUDO=sudo
fi

# The package names are the names above. env passes DEBIAN_FRONTEND through sudo, which resets the environment.
echo "Installing ${missing[*]} with apt-get"
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

still=()
for what in "${missing[@]}"; do present "$what" || still+=("$what"); done
[ ${#still[@]} -eq 0 ] || die "still missing after apt-get install:$(names "${still[@]}")"
echo "Installed ${missing[*]}"
