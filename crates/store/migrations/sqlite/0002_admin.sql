-- Portcullis schema v2 (SQLite): directory roles and admin API tokens. Keep in step with
-- ../postgres/0002_admin.sql (same tables, columns and constraints; only the types differ).

-- Directory roles held by users (Global Administrator, Application Administrator, ...). The role
-- is the IdP's stable name (`global_administrator`, ...); a user without a row is a plain user.
CREATE TABLE directory_roles (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, role)
);
CREATE INDEX directory_roles_user ON directory_roles (user_id);

-- Admin API tokens. Only the SHA-256 (hex) of the token is kept; the token acts with its
-- owner's roles at the time of use. Revoked tokens stay (revoked_at set) for the record.
CREATE TABLE api_tokens (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,          -- creation order
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
