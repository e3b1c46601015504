-- Outgoing e-mail (certificate-expiry notices, access-request decisions): queued here in the
-- same database as the event that caused it, delivered by the server's mail worker over SMTP
-- when one is configured, and readable by administrators (and tests) either way.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- Two events with the same key make one message (e.g. one notice per certificate and
    -- threshold, however many nodes notice it).
    dedup_key TEXT UNIQUE,
    sent_at BIGINT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX outbox_unsent ON outbox (created_at) WHERE sent_at IS NULL;
