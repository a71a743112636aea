-- postgres/0003_vm_checks_per_statement: a VM's references and domains checked once a statement.
--
-- 0001 gave `vms` three foreign keys (its region, its subscription, its set in its region) and a
-- row trigger keeping its domains inside its set's ranges, as SQLite has them. PostgreSQL checks
-- a foreign key with a query per row: loading a million VMs spent 13 s on those checks and 5 s
-- on the trigger, out of 21 s. SQLite's bulk import suspends its checks and makes them once,
-- set-wise, after the load; PostgreSQL cannot suspend a foreign key without superuser rights or
-- a lock that stops every server reading the fleet. So the same rules become statement
-- triggers that see the statement's rows as one table: a COPY of a million VMs is checked by
-- one query a rule, a single-row INSERT by the same queries on one row.
--
-- The rules are unchanged, and so are their refusals: a missing region, subscription or set is
-- SQLSTATE 23503 (foreign_key_violation), a domain out of range raises the message it raised.
-- As a foreign key does, the rows a statement's VMs name are locked FOR KEY SHARE (once each),
-- so that no other transaction removes them before this one ends; and the other side is kept
-- too: a region, subscription or set that a VM names cannot be removed or renamed.

ALTER TABLE vms DROP CONSTRAINT vms_region_fkey;
ALTER TABLE vms DROP CONSTRAINT vms_subscription_fkey;
ALTER TABLE vms DROP CONSTRAINT vms_availability_set_region_fkey;
DROP TRIGGER vms_domains_in_range_on_insert ON vms;
DROP TRIGGER vms_domains_in_range_on_update ON vms;
DROP FUNCTION vms_domains_in_range();

-- The rows of one INSERT, UPDATE or COPY on vms are the table `changed`. They are read once, as
-- each distinct (region, subscription, set) they name with the largest domains placed in it (a
-- few thousand entries for a million VMs); the rules are checked on those.
CREATE FUNCTION vms_check_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    region_of text[] COLLATE "C";
    subscription_of text[] COLLATE "C";
    set_of text[] COLLATE "C";
    most_ud integer[];
    most_fd integer[];
BEGIN
    SELECT array_agg(region), array_agg(subscription), array_agg(availability_set), array_agg(ud), array_agg(fd)
    INTO region_of, subscription_of, set_of, most_ud, most_fd
    FROM (SELECT region, subscription, availability_set, max(update_domain) AS ud, max(fault_domain) AS fd
          FROM changed GROUP BY region, subscription, availability_set) AS named;
    IF region_of IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM regions WHERE name = ANY(region_of) FOR KEY SHARE;
    PERFORM 1 FROM subscriptions WHERE id = ANY(subscription_of) FOR KEY SHARE;
    PERFORM 1 FROM availability_sets a JOIN unnest(set_of, region_of) AS n(s, r) ON a.name = n.s AND a.region = n.r FOR KEY SHARE OF a;
    IF EXISTS (
        SELECT 1 FROM unnest(region_of, subscription_of, set_of) AS n(r, sub, s)
        WHERE NOT EXISTS (SELECT 1 FROM regions WHERE name = n.r)
           OR NOT EXISTS (SELECT 1 FROM subscriptions WHERE id = n.sub)
           OR (n.s IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_sets a WHERE a.name = n.s AND a.region = n.r))) THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = 'vms: a VM names a region, subscription or availability set that does not exist';
    END IF;
    IF EXISTS (
        SELECT 1 FROM unnest(set_of, most_ud, most_fd) AS n(s, ud, fd) JOIN availability_sets a ON a.name = n.s
        WHERE n.ud >= a.update_domains OR n.fd >= a.fault_domains) THEN
        RAISE EXCEPTION USING MESSAGE = 'vms: update or fault domain outside the availability set''s range';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER vms_checked_on_insert AFTER INSERT ON vms
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION vms_check_statement();
CREATE TRIGGER vms_checked_on_update AFTER UPDATE ON vms
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION vms_check_statement();

-- The other side: what a VM names stays while it does. The trigger's arguments are the test
-- on vms that finds a VM naming the old row ($1), and the refusal.
CREATE FUNCTION kept_while_vms_name_it() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    named boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM vms WHERE %s)', TG_ARGV[0]) INTO named USING OLD;
    IF named THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', MESSAGE = TG_ARGV[1];
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER regions_kept_for_vms_on_delete AFTER DELETE ON regions
FOR EACH ROW EXECUTE FUNCTION kept_while_vms_name_it('region = ($1).name', 'regions: a VM is still in the region');
CREATE TRIGGER regions_kept_for_vms_on_update AFTER UPDATE OF name ON regions
FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
EXECUTE FUNCTION kept_while_vms_name_it('region = ($1).name', 'regions: a VM is still in the region');
CREATE TRIGGER subscriptions_kept_for_vms_on_delete AFTER DELETE ON subscriptions
FOR EACH ROW EXECUTE FUNCTION kept_while_vms_name_it('subscription = ($1).id', 'subscriptions: a VM is still in the subscription');
CREATE TRIGGER subscriptions_kept_for_vms_on_update AFTER UPDATE OF id ON subscriptions
FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
EXECUTE FUNCTION kept_while_vms_name_it('subscription = ($1).id', 'subscriptions: a VM is still in the subscription');
CREATE TRIGGER availability_sets_kept_for_vms_on_delete AFTER DELETE ON availability_sets
FOR EACH ROW EXECUTE FUNCTION kept_while_vms_name_it('availability_set = ($1).name AND region = ($1).region', 'availability_sets: a VM is still in the set');
CREATE TRIGGER availability_sets_kept_for_vms_on_update AFTER UPDATE OF name, region ON availability_sets
FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.region IS DISTINCT FROM NEW.region)
EXECUTE FUNCTION kept_while_vms_name_it('availability_set = ($1).name AND region = ($1).region', 'availability_sets: a VM is still in the set');
