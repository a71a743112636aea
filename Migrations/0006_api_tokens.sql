-- 0006_api_tokens: the bearer tokens of the REST API under /api/v1 (`pitstop token create`).
--
-- A token is a secret (`pitstop_` and 43 characters of base64url, 32 random bytes) that the
-- operator is shown once, when it is made. The database keeps only the SHA-256 of the secret,
-- so a copy of the file (a backup, a support bundle) lets nobody call the API; the server hashes
-- what a caller presents and compares digests. A token has one role: viewer reads; executor
-- also moves events and waves through their lifecycle; operator may do everything.
-- `pitstop token revoke` deletes the row; the audit log keeps token.create and token.revoke
-- (name and role, never the secret or its hash).
CREATE TABLE api_tokens (
    -- How the operator names the token: 1 to 64 letters, digits, '.', '_' or '-'.
    name          TEXT NOT NULL PRIMARY KEY
                  CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '*[^A-Za-z0-9._-]*'),
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'executor', 'operator')),
    -- Lowercase hex SHA-256 of the secret's UTF-8 bytes; the secret itself is never stored.
    hash          TEXT NOT NULL UNIQUE
                  CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'),
    created_at    TEXT NOT NULL,
    -- Who made it: the CLI's actor ($PITSTOP_ACTOR, else the OS user).
    created_by    TEXT NOT NULL,
    -- When a request it authorised was last served, to the minute (the server writes at most
    -- once a minute per token); NULL until its first use.
    last_used_at  TEXT
) WITHOUT ROWID;
