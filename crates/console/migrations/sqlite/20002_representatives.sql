-- The console's representatives and their sign-in (sqlite), migration set `console`. Keep in step with
-- the other backend's 20002_representatives.sql. Times are unix seconds. No column holds a usable
-- secret: passwords are argon2id hashes, session cookies and connect tickets SHA-256 hashes.

-- Local representative accounts (representatives who do not sign in through SAML).
CREATE TABLE console_representatives (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- The group policies of a local representative (names of console policies).
CREATE TABLE console_representative_policies (
    representative_id TEXT NOT NULL REFERENCES console_representatives (id) ON DELETE CASCADE,
    policy TEXT NOT NULL,
    policy_key TEXT NOT NULL,
    PRIMARY KEY (representative_id, policy_key)
);

-- Signed-in local representatives, by the SHA-256 of the session cookie.
CREATE TABLE console_representative_sessions (
    token_hash TEXT PRIMARY KEY,
    representative_id TEXT NOT NULL REFERENCES console_representatives (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX console_representative_sessions_expiry ON console_representative_sessions (expires_at);

-- One-time, short-lived tickets of `portcullis console connect` (written by the CLI, which has the
-- data directory; taken by the server's /console/api/connect), by their SHA-256.
CREATE TABLE console_connect_tickets (
    ticket_hash TEXT PRIMARY KEY,
    representative_id TEXT NOT NULL REFERENCES console_representatives (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
