-- The SP toolkit's tables, version 10001 (PostgreSQL). Keep in step with
-- ../sqlite/10001_sp.sql (same tables, columns and indexes; only the types differ).
-- Lists (certificates, e-mail domains, permissions, groups) are newline-separated TEXT: the
-- values never contain a newline (base64, domains, permission names, object IDs).
--
-- Builds before the SP toolkit had its own migration set created exactly these tables as the
-- store's migration 3 (now retired there). Every statement is IF NOT EXISTS, so a database of
-- such a build keeps its tables and rows and this version is only recorded; a new database gets
-- them here. Later changes to these tables are new versions (10002, ...), never edits of this file.
--
-- No foreign key leaves these tables: an application embedding the SP toolkit has no IdP
-- tenant or directory, and the SP's applications, users and policies are its own.

-- One application that signs its users in through SAML.
CREATE TABLE IF NOT EXISTS sp_apps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    base_url TEXT NOT NULL,
    entity_id TEXT,                 -- NULL: {base_url}/saml/metadata
    acs_url TEXT,                   -- NULL: {base_url}/saml/acs
    signing_key_sealed BYTEA,        -- PKCS#8, sealed with AAD sp/app/<id>/signing
    signing_cert TEXT,              -- PEM
    encryption_key_sealed BYTEA,     -- PKCS#8, sealed with AAD sp/app/<id>/encryption
    encryption_cert TEXT,
    created_at BIGINT NOT NULL
);

-- Group policies: a name and the permissions it grants.
CREATE TABLE IF NOT EXISTS sp_policies (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES sp_apps (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    permissions TEXT NOT NULL,
    UNIQUE (app_id, name_key)
);

-- SAML providers (IdPs) of an application.
CREATE TABLE IF NOT EXISTS sp_providers (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES sp_apps (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    idp_entity_id TEXT NOT NULL,
    sso_url TEXT NOT NULL,
    sso_binding TEXT NOT NULL CHECK (sso_binding IN ('post', 'redirect')),
    slo_url TEXT,
    signing_certs TEXT NOT NULL,    -- base64 DER, one per line
    metadata_url TEXT,
    -- Which signature the ACS requires ('either', 'response', 'assertion'), whether RSA-SHA1 is
    -- accepted (legacy IdPs only) and the clock skew allowed on every time window.
    want_signed TEXT NOT NULL CHECK (want_signed IN ('either', 'response', 'assertion')),
    allow_sha1 BOOLEAN NOT NULL,
    skew_seconds BIGINT NOT NULL,
    allow_idp_initiated BOOLEAN NOT NULL,
    sign_requests BOOLEAN NOT NULL,
    waiting_room BOOLEAN NOT NULL,
    email_domains TEXT NOT NULL,
    attr_username TEXT NOT NULL,
    attr_first_name TEXT NOT NULL,
    attr_last_name TEXT NOT NULL,
    attr_email TEXT NOT NULL,
    attr_groups TEXT NOT NULL,
    default_policy_id TEXT REFERENCES sp_policies (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (app_id, name_key),
    UNIQUE (app_id, idp_entity_id)
);

-- Outstanding AuthnRequests: found by the opaque RelayState reference, bound to the browser
-- that started the login (a keyed hash of its cookie), with the validated return URL.
CREATE TABLE IF NOT EXISTS sp_requests (
    relay TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    provider_id TEXT NOT NULL REFERENCES sp_providers (id) ON DELETE CASCADE,
    browser TEXT NOT NULL,
    return_url TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS sp_requests_expiry ON sp_requests (expires_at);

-- One-time use of assertions, shared by every node and surviving restarts.
CREATE TABLE IF NOT EXISTS sp_replay (
    assertion_id TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

-- The application's own users (JIT-created or pre-provisioned by an administrator).
CREATE TABLE IF NOT EXISTS sp_local_users (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES sp_apps (id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS sp_local_users_email ON sp_local_users (app_id, email_key);

-- SAML users: one per (provider, NameID), created at the first successful login.
CREATE TABLE IF NOT EXISTS sp_saml_users (
    id TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES sp_providers (id) ON DELETE CASCADE,
    name_id TEXT NOT NULL,
    local_user_id TEXT NOT NULL REFERENCES sp_local_users (id) ON DELETE CASCADE,
    groups TEXT NOT NULL,           -- IdP group object IDs at the last login
    permissions TEXT NOT NULL,      -- effective permissions, recomputed at every login
    -- Waiting room: a JIT-created user of a waiting-room provider is not let in until an
    -- administrator approves an access request, which grants a policy and sites.
    waiting BOOLEAN NOT NULL,
    granted_policy_id TEXT REFERENCES sp_policies (id) ON DELETE SET NULL,
    granted_sites TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT NOT NULL,
    UNIQUE (provider_id, name_id)
);

-- "New user" access requests for users in the waiting room.
CREATE TABLE IF NOT EXISTS sp_access_requests (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES sp_apps (id) ON DELETE CASCADE,
    saml_user_id TEXT NOT NULL REFERENCES sp_saml_users (id) ON DELETE CASCADE,
    requested_by TEXT NOT NULL REFERENCES sp_saml_users (id) ON DELETE CASCADE,
    policy_id TEXT NOT NULL REFERENCES sp_policies (id) ON DELETE CASCADE,
    sites TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at BIGINT NOT NULL,
    decided_by TEXT REFERENCES sp_saml_users (id) ON DELETE SET NULL,
    decided_at BIGINT
);
CREATE INDEX IF NOT EXISTS sp_access_requests_app ON sp_access_requests (app_id, status);

-- Available groups: IdP group object IDs an administrator maps to policies.
CREATE TABLE IF NOT EXISTS sp_groups (
    app_id TEXT NOT NULL REFERENCES sp_apps (id) ON DELETE CASCADE,
    object_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    PRIMARY KEY (app_id, object_id)
);
CREATE TABLE IF NOT EXISTS sp_group_policies (
    app_id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    policy_id TEXT NOT NULL REFERENCES sp_policies (id) ON DELETE CASCADE,
    PRIMARY KEY (app_id, object_id, policy_id),
    FOREIGN KEY (app_id, object_id) REFERENCES sp_groups (app_id, object_id) ON DELETE CASCADE
);

-- Local sessions of the application (the cookie holds the token; only its hash is kept).
CREATE TABLE IF NOT EXISTS sp_sessions (
    token_hash TEXT PRIMARY KEY,
    saml_user_id TEXT NOT NULL REFERENCES sp_saml_users (id) ON DELETE CASCADE,
    session_index TEXT,
    expires_at BIGINT NOT NULL
);
