-- Sign-in throttling shared by every node: failed attempts and locks per (tenant, user name),
-- and the last TOTP time step each user signed in with (a code works once, on any node).
-- Neither bumps the change counter: they change on sign-ins, not configuration.
CREATE TABLE sign_in_lockouts (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sign_in_lockouts_updated ON sign_in_lockouts (updated_at);
CREATE TABLE totp_steps (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    step BIGINT NOT NULL
);
