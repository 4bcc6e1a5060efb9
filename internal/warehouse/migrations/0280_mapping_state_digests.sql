-- 0280: what an API source's mapping read and wrote when it last mapped in
-- full (ingest.Mapping), so that a mapping with nothing new to read skips
-- (a sync that fetched nothing, the mappers `shiplog transform` runs).
--
-- inputs:  per table the mapping reads whole (its raw_* tables, and any
--          other table its SQL reads, such as services), the row count and
--          the sum of hash(t) over its rows, as JSON;
-- outputs: the same for the source's own rows of each canonical table it
--          replaces, so that rows changed by another writer are mapped
--          again.
-- fingerprint keeps its meaning (the rules and the settings); CDEvents
-- leaves both new columns NULL, and its full mapping runs as before.
ALTER TABLE mapping_state ADD COLUMN inputs VARCHAR;
ALTER TABLE mapping_state ADD COLUMN outputs VARCHAR;

-- GitLab kept its own weaker check (row counts and the newest fetch of its
-- raw tables) as a source_state value; the mapping state above replaces it.
DELETE FROM source_state WHERE source = 'gitlab' AND scope = 'mapping' AND key = 'fingerprint';
