-- API keys that exchange a secret for tokens (POST /oauth/token, /auth/api/v1/token). Only a
-- SHA-256 of each secret is kept; after a rotation the previous one works until its deadline.
CREATE TABLE api_clients (
    api_key              TEXT PRIMARY KEY,
    client_id            TEXT NOT NULL,
    name                 TEXT,
    scope                TEXT,
    secret_hash          TEXT NOT NULL,
    previous_secret_hash TEXT,
    previous_valid_until TEXT,
    created_at           TEXT NOT NULL,
    revoked_at           TEXT
);
CREATE INDEX api_clients_client_id ON api_clients (client_id);
