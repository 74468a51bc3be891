-- A digest that could not be sent (SMTP down, a template error, a store that could not record it),
-- so that `status`, `/healthz` and `/metrics` tell of it, not only a log line: the week it was for,
-- why, and since when (Unix seconds). The row goes once an issue is sent, written or found to
-- have nothing to send.
CREATE TABLE digest_state (
    feed          TEXT    NOT NULL PRIMARY KEY,
    week          TEXT    NOT NULL,
    last_error    TEXT    NOT NULL,
    failing_since INTEGER NOT NULL
) STRICT;
