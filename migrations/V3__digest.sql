-- The weekly digest: issues that went out, the entries each one mailed, and which entries have
-- their related posts fixed.

-- One row per (feed, ISO week) issue, written only once the SMTP server accepted the message
-- (or, without smtp_url, once its files were written).
CREATE TABLE digest_issue (
    feed        TEXT    NOT NULL,
    week        TEXT    NOT NULL,           -- "2024-W46"
    subject     TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    sent_at     INTEGER NOT NULL,
    delivered   INTEGER NOT NULL,           -- 1: accepted by SMTP, 0: only written
    titles      TEXT    NOT NULL,           -- JSON array of the headlines
    PRIMARY KEY (feed, week)
) STRICT;

-- Every entry an issue carried: an entry is mailed at most once per feed.
CREATE TABLE digest_mailed (
    feed     TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    week     TEXT NOT NULL,
    PRIMARY KEY (feed, entry_id)
) STRICT;

-- Entries whose related links were computed; they are kept from then on.
CREATE TABLE related_fixed (
    entry_id TEXT NOT NULL PRIMARY KEY
) STRICT;
