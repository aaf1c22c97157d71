#!/usr/bin/env bash
# One-time Vault setup for AgentIdP, run by a Vault operator (VAULT_ADDR and an admin VAULT_TOKEN set).
# Enables KV v2, writes the policies, and either creates a renewable service token or configures the
# Kubernetes auth roles that the pods of deploy/k8s log in with (through Vault Agent, or themselves
# with VAULT_AUTH_METHOD=kubernetes).
set -euo pipefail
MOUNT=${VAULT_KV_MOUNT:-secret}
cd "$(dirname "$0")"

vault secrets list -format=json | grep -q "\"$MOUNT/\"" || vault secrets enable -path="$MOUNT" kv-v2
# agentidp: the client secrets. agentidp-database, agentidp-signing: the settings Vault Agent renders in Kubernetes.
for policy in agentidp agentidp-database agentidp-signing; do
  sed "s#secret/#$MOUNT/#g" "$policy-policy.hcl" | vault policy write "$policy" -
done

case "${1:-token}" in
  token)
    # A periodic-style service token: renewable, renewed by AgentIdP at two thirds of its TTL.
    vault token create -policy=agentidp -ttl=768h -renewable=true -display-name=agentidp
    ;;
  kubernetes)
    # Run inside the cluster (or set kubernetes_host/kubernetes_ca_cert yourself).
    NAMESPACE=${AGENTIDP_NAMESPACE:-agentidp}
    vault auth list -format=json | grep -q '"kubernetes/"' || vault auth enable kubernetes
    vault write auth/kubernetes/config kubernetes_host="https://${KUBERNETES_SERVICE_HOST:?}:${KUBERNETES_SERVICE_PORT:-443}"
    # role NAME POLICIES: a role bound to the service account of the same name in $NAMESPACE
    # (deploy/k8s/base declares them), with the policies that account's pods need.
    role() {
      vault write "auth/kubernetes/role/$1" bound_service_account_names="$1" \
        bound_service_account_namespaces="$NAMESPACE" policies="$2" ttl=1h max_ttl=24h
    }
    role agentidp-authserver agentidp,agentidp-database,agentidp-signing
    role agentidp-admin-api agentidp,agentidp-database
    role agentidp-migrate agentidp-database
    ;;
  *)
    echo "usage: $0 [token|kubernetes]" >&2
    exit 2
    ;;
esac
