# The Vault policy AgentIdP needs, for the KV v2 mount "secret" (replace it with VAULT_KV_MOUNT's value).
# Writing a new credential's secret needs create, a rotation update, the token endpoint read, and
# revocation delete on the metadata path (which destroys every version).
path "secret/data/agentidp/*" {
  capabilities = ["create", "read", "update", "delete"]
}

path "secret/metadata/agentidp/*" {
  capabilities = ["delete"]
}

# Looking up and renewing its own token (the default policy grants these too).
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

path "auth/token/renew-self" {
  capabilities = ["update"]
}
