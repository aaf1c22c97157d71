#!/usr/bin/env bash
# One-time Vault setup for AgentIdP, run by a Vault operator (VAULT_ADDR and an admin VAULT_TOKEN set).
# Enables KV v2, writes the policy, and either creates a renewable service token or configures the
# Kubernetes auth role that AgentIdP's pods log in with (VAULT_AUTH_METHOD=kubernetes).
set -euo pipefail
MOUNT=${VAULT_KV_MOUNT:-secret}
cd "$(dirname "$0")"

vault secrets list -format=json | grep -q "\"$MOUNT/\"" || vault secrets enable -path="$MOUNT" kv-v2
sed "s#secret/#$MOUNT/#g" agentidp-policy.hcl | vault policy write agentidp -

case "${1:-token}" in
  token)
    # A periodic-style service token: renewable, renewed by AgentIdP at two thirds of its TTL.
    vault token create -policy=agentidp -ttl=768h -renewable=true -display-name=agentidp
    ;;
  kubernetes)
    # Run inside the cluster (or set kubernetes_host/kubernetes_ca_cert yourself).
    vault auth list -format=json | grep -q '"kubernetes/"' || vault auth enable kubernetes
    vault write auth/kubernetes/config kubernetes_host="https://${KUBERNETES_SERVICE_HOST:?}:${KUBERNETES_SERVICE_PORT:-443}"
    vault write auth/kubernetes/role/agentidp \
      bound_service_account_names=agentidp bound_service_account_namespaces="${AGENTIDP_NAMESPACE:-agentidp}" \
      policies=agentidp ttl=1h max_ttl=24h
    ;;
  *)
    echo "usage: $0 [token|kubernetes]" >&2
    exit 2
    ;;
esac
