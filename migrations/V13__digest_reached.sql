-- Recipients a week's digest already reached while the issue is not recorded as sent yet: a
-- send that stopped after the SMTP server took the message for some of them (it takes only so
-- many recipients per message, and put off one of a later batch). The retry sends it to the
-- others alone; once the issue is recorded, its rows here are deleted.
CREATE TABLE digest_reached (
    feed    TEXT NOT NULL,
    week    TEXT NOT NULL,           -- "2024-W46"
    address TEXT NOT NULL,           -- the envelope address, e.g. "ana@example.org"
    PRIMARY KEY (feed, week, address)
) STRICT;
