# Reading DATABASE_URL, which Vault Agent renders for every AgentIdP pod in Kubernetes (deploy/k8s).
# For the KV v2 mount "secret" (setup.sh replaces it with VAULT_KV_MOUNT's value).
path "secret/data/agentidp-settings/database" {
  capabilities = ["read"]
}
