-- What a source is beyond its name. `kind`: the kind it was configured with when last read (NULL:
-- not recorded yet), beside `url` (V14), the URL or folder it was read from. A source renamed in
-- the configuration is recognised by the two: the store carries its history over to the new name.
ALTER TABLE source_state ADD COLUMN kind TEXT;
