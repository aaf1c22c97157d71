#!/usr/bin/env bash
# Starts a working local AgentIdP in one command: PostgreSQL (a cluster under .dev/ when DATABASE_URL
# is unset), migrations, the admin agent, the AuthServer on http://127.0.0.1:5080 and the admin API on
# http://127.0.0.1:5081. Prints the admin's credential and the curl lines that take a new agent from
# nothing to a token. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DEV="$ROOT/.dev"
mkdir -p "$DEV"

AUTH_URL=http://127.0.0.1:5080
ADMIN_URL=http://127.0.0.1:5081
PG_PORT=${AGENTIDP_DEV_PG_PORT:-55432}
ADMIN_EMAIL=${AGENTIDP_DEV_ADMIN_EMAIL:-admin@agentidp.local}
PIDS=()
STARTED_PG=""

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'dev.sh: %s\n' "$*" >&2; exit 1; }

cleanup() {
  trap '' INT TERM # a second Ctrl-C must not cut the cleanup short
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$STARTED_PG" ]; then as_pg "$PG_BIN/pg_ctl" -D "$DEV/pg/data" -m fast -w stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v dotnet >/dev/null || die "the .NET 10 SDK is required: install it, then run this again."

# PostgreSQL runs as its own user when this script runs as root.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ -z "${DATABASE_URL:-}" ]; then
  # The PostgreSQL server binaries: installed with apt-get when they are missing.
  "$ROOT/scripts/install-prerequisites.sh" postgresql \
    || die "without the PostgreSQL server binaries, set DATABASE_URL to use an existing PostgreSQL 15+ server."
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || PG_BIN=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL's initdb was not found in /usr/lib/postgresql/*/bin or on PATH."
  if [ ! -f "$DEV/pg/data/PG_VERSION" ]; then
    say "Creating a local PostgreSQL cluster in .dev/pg"
    mkdir -p "$DEV/pg"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$DEV/pg"
    as_pg "$PG_BIN/initdb" -D "$DEV/pg/data" -U postgres -A trust -E UTF8 --locale=C >"$DEV/initdb.log" 2>&1 \
      || die "initdb failed; see .dev/initdb.log"
  fi
  if ! as_pg "$PG_BIN/pg_ctl" -D "$DEV/pg/data" status >/dev/null 2>&1; then
    say "Starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$DEV/pg/data" -l "$DEV/pg/postgres.log" -w \
      -o "-p $PG_PORT -k $DEV/pg -c listen_addresses=127.0.0.1" start >/dev/null || die "PostgreSQL did not start; see .dev/pg/postgres.log"
    STARTED_PG=1
  fi
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres agentidp 2>/dev/null || true
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/agentidp"
fi

# The key that encrypts the token signing keys at rest: generated once per checkout, kept in .dev/.
if [ -z "${SIGNING_KEY_ENCRYPTION_KEY:-}" ]; then
  [ -s "$DEV/signing-key-encryption-key" ] || (umask 077; head -c 32 /dev/urandom | base64 >"$DEV/signing-key-encryption-key")
  SIGNING_KEY_ENCRYPTION_KEY=$(cat "$DEV/signing-key-encryption-key")
  export SIGNING_KEY_ENCRYPTION_KEY
fi
export ISSUER=${ISSUER:-$AUTH_URL/}
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}

say "Building"
dotnet build AgentIdp.sln -v quiet -nologo >"$DEV/build.log" 2>&1 || { tail -n 30 "$DEV/build.log"; die "the build failed; see .dev/build.log"; }

say "Applying migrations"
dotnet run --no-build --project src/AgentIdp.Cli -- migrate

say "Bootstrapping the admin agent ($ADMIN_EMAIL)"
ADMIN=$(dotnet run --no-build --project src/AgentIdp.Cli -- bootstrap-admin --email "$ADMIN_EMAIL" --owner local-dev --deployment-env development)
ADMIN_ID=$(printf '%s' "$ADMIN" | sed -E 's/.*"clientId":"([^"]+)".*/\1/')
ADMIN_SECRET=$(printf '%s' "$ADMIN" | sed -E 's/.*"clientSecret":"([^"]+)".*/\1/')

start_service() { # name project url
  say "Starting $1 on $3"
  dotnet run --no-build --no-launch-profile --project "$2" --urls "$3" >"$DEV/$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 120); do
    curl -fs "$3/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "${PIDS[-1]}" 2>/dev/null || { tail -n 20 "$DEV/$1.log"; die "$1 exited; see .dev/$1.log"; }
    sleep 0.5
  done
  die "$1 did not become ready; see .dev/$1.log"
}
start_service authserver src/AuthServer "$AUTH_URL"
start_service adminapi src/AgentAdminApi "$ADMIN_URL"

cat <<INFO

AgentIdP is running (logs in .dev/*.log; Ctrl-C stops it).
  AuthServer     $AUTH_URL   discovery: $AUTH_URL/.well-known/oauth-authorization-server
  Admin API      $ADMIN_URL   reference: $ADMIN_URL/scalar/v1   OpenAPI: $ADMIN_URL/openapi/v1.json
  PostgreSQL     $DATABASE_URL

The admin agent's credential (shown once; run this script again for a new one):
  $ADMIN

Get a token as the admin:
  curl -s -u '$ADMIN_ID:$ADMIN_SECRET' -d grant_type=client_credentials $AUTH_URL/api/v1/token

From nothing to an agent holding a token (paste into a shell):
  TOKEN=\$(curl -s -u '$ADMIN_ID:$ADMIN_SECRET' -d grant_type=client_credentials $AUTH_URL/api/v1/token | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')
  AGENT=\$(curl -s -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"email":"screener-'\$RANDOM\$RANDOM'@example.com","agentType":"screener","version":"1.0.0","capabilities":["invoices:read"],"owner":"team-payments","deploymentEnv":"development"}' $ADMIN_URL/api/v1/agents | sed -n 's/.*"agentId":"\([^"]*\)".*/\1/p')
  SECRET=\$(curl -s -X POST -H "Authorization: Bearer \$TOKEN" $ADMIN_URL/api/v1/agents/\$AGENT/credentials | sed -n 's/.*"clientSecret":"\([^"]*\)".*/\1/p')
  curl -s -u "\$AGENT:\$SECRET" -d grant_type=client_credentials $AUTH_URL/api/v1/token

That token is for other APIs; the admin API refuses it. The agent manages its own credentials with agents:self:
  SELF=\$(curl -s -u "\$AGENT:\$SECRET" -d grant_type=client_credentials -d scope=agents:self $AUTH_URL/api/v1/token | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')
  curl -s -H "Authorization: Bearer \$SELF" $ADMIN_URL/api/v1/agents/\$AGENT/credentials

INFO
wait
