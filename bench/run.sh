#!/usr/bin/env bash
# Load benchmark of the AuthServer's token endpoint: builds the bench (and with it the AuthServer) in
# Release, then runs it. Everything else happens in bench/AgentIdp.Bench; see bench/README.md.
#
#   bench/run.sh [--smoke] [--growth] [--duration SECONDS] [--bcrypt-cost N] [--only KEY,...]
set -euo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: wrk is not installed: apt-get install wrk" >&2
  exit 2
fi

dotnet build "$bench/AgentIdp.Bench/AgentIdp.Bench.csproj" -c Release --nologo -v quiet -clp:NoSummary >&2
# exec: Ctrl-C reaches the bench itself, which stops every process it started.
exec dotnet "$bench/AgentIdp.Bench/bin/Release/net10.0/AgentIdp.Bench.dll" "$@"
