# Reading SIGNING_KEY_ENCRYPTION_KEY, which Vault Agent renders for the AuthServer's pods in Kubernetes
# (deploy/k8s). For the KV v2 mount "secret" (setup.sh replaces it with VAULT_KV_MOUNT's value).
path "secret/data/agentidp-settings/signing" {
  capabilities = ["read"]
}
