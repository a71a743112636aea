-- postgres/0002_notice_compression: notice bodies compressed with LZ4 where the server has it.
--
-- A reboot plan's notice lists every VM of its subscription: 800 kB of text for 50,000 VMs.
-- PostgreSQL's default compression (pglz) took 13 ms to store each such body, a quarter of a
-- second for a million-VM plan's twenty notices; LZ4 takes a fifth of that, for a sixth more
-- space. Only bodies stored from now on are compressed so; those stored before read the same.
-- A server built without LZ4 keeps pglz: this migration applies everywhere.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
        ALTER TABLE notices ALTER COLUMN body SET COMPRESSION lz4;
    END IF;
END $$;
