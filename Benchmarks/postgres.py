#!/usr/bin/env python3
"""Pitstop on PostgreSQL: the figures of issue 13, each printed with its ratio against the named
baseline, all measured in the same run on the same fleet of 1,000,000 VMs (2,000 sets, 60
regions; Benchmarks/generate-fleet.py, without windows).

  import    `pitstop import vms.csv --db postgres://...` (the bulk path: one COPY) into a fresh
            copy of a template database that holds the fleet without VMs (fleet.json imported by
            Pitstop), whole process, wall time. Two baselines, each whole `psql` processes, each
            into a fresh database: (a) the issue's: `psql -c "\\copy vms FROM 'vms.csv' (FORMAT
            csv, HEADER)"` of the same CSV into a table with the same six text columns and a
            PRIMARY KEY on name (text COLLATE "C"), no other constraint; (b) the floor of
            Pitstop's own schema: `psql \\copy` of the same VMs with the columns Pitstop computes
            (update and fault domain placed round-robin per set: the n-th VM of a set gets update
            domain n % updateDomains and fault domain n % faultDomains; key = row number; the
            CSV is computed here from fleet.json and vms.csv) into Pitstop's own `vms` table
            (its foreign keys, CHECKs, the domain trigger, its indexes) in a fresh copy of the
            same template; (c) the same load as Pitstop makes it into an empty fleet, by `psql`
            alone: one transaction that drops the indexes of `vms`, copies the rows of (b) and
            makes the indexes again from the catalog's definitions (psql's \\gexec). The four
            interleaved, each taking each place in turn, three runs each, medians. Target:
            Pitstop at most 1.5x (a). The ratios to (b) and (c) are printed too: (c) is what
            Pitstop's schema costs PostgreSQL itself, loaded the same way, so Pitstop over (c) is
            what Pitstop adds. Checked: after every
            Pitstop run `vms` holds N VMs, and in the first round the floor's domains and keys'
            count match what Pitstop placed. (Below about 25,000 VMs, --vms scales under the
            import's bulk threshold: Pitstop then inserts row by row, without COPY.)
  plan      `pitstop plan --kind reboot` over the million VMs (PITSTOP_NOW=2026-12-01T00:00:00Z),
            whole process (reading the fleet included), on PostgreSQL (a fresh copy of a template
            with the VMs imported by Pitstop) against the same command on SQLite (a fresh copy
            of a SQLite file with the same fleet and VMs, imported by Pitstop), interleaved,
            three runs each, medians. Target: PostgreSQL at most 2x SQLite. Checked: both plans
            have the same number of waves and (wave, VM) pairs. After each plan (untimed in
            the plan's figure), `pitstop check` of it is timed on both: it reads the whole
            active plan and the fleet (no target; printed with its ratio). In the first round
            only, `pitstop upcoming --within 90d --format json` of the whole plan is timed once
            on each (no target): the largest listing, every event rendered.
  serve     `GET /metadata/scheduledevents?api-version=2020-07-01` (header `Metadata: true`)
            served by two `pitstop serve --no-throttle` processes on one PostgreSQL database
            (a copy of the template with VMs) against one `pitstop serve --no-throttle` on
            SQLite (a copy of the SQLite file), each database with a freeze campaign of
            region-00 planned (`pitstop plan --kind freeze --not-before T`, the same T on both:
            the whole minute 17 minutes ahead of the real time, which the servers take, so the
            two plans are the same) and the same VM of its first wave given the address
            127.0.0.1, wrk's own, as Benchmarks/serve.py does; a wave enters its VMs' documents
            15 minutes before it starts, so the run waits a minute or two for it. wrk (2 threads, C connections, S seconds; the same for each
            wrk) runs against both PostgreSQL servers at the same time (their requests/s summed,
            both p99s reported), then against the SQLite server alone; rounds interleaved (three
            by default, taking turns at going first), medians. Printed: requests/s and p99 of
            each, and the ratio (PostgreSQL pair total / SQLite one). No numeric target. On a
            2-core machine the two servers, PostgreSQL and the two wrk processes share the same
            two cores (as the one server and its wrk do on SQLite): the pair cannot show what two
            machines would serve. Each server logs its requests to a file, as in serve.py.
            Skipped, saying how to install it, when wrk is missing.
  firstpolls After a plan, each VM's next poll finds its document changed and numbers it
            (DocumentIncarnation): a million such writes at once. Measured here on first polls,
            which number a VM's first document the same way, without waiting for a plan to come
            into view: P VMs (default 20,000) get the addresses 127.20.0.1 onwards (set with
            psql, behind Pitstop's back: a fixture), two `pitstop serve --no-throttle` run on
            one PostgreSQL database (a copy of the template with VMs), and a client polls each
            VM once from its own address, one connection a poll, 64 at a time, alternating
            between the servers: every poll numbers a document. Then the same polls again (the
            documents unchanged: no write). Printed: polls/s and p99 of each pass and the ratio
            first / again. Checked: every answer is 200 with DocumentIncarnation 1, and the
            database holds P incarnations. The client is Python: its own ceiling shows in the
            second pass.

The PostgreSQL server is a throwaway cluster the script starts itself (Debian's postgresql:
initdb and pg_ctl from /usr/lib/postgresql/VERSION/bin; as root, run as the `postgres` user),
`initdb -A trust -U pitstop -E UTF8 --locale=C.UTF-8`, reached only over a Unix socket in a
temporary directory (`listen_addresses=''`, `-k DIR`), stopped and removed at the end, also on
failure or Ctrl-C. Its settings (SETTINGS below): durability traded away as on a throwaway
server (fsync, synchronous_commit and full_page_writes off; SQLite's side runs in WAL mode with
synchronous=NORMAL, which syncs no commit either), shared_buffers 512MB (the million VMs and
their indexes fit), max_wal_size 8GB and checkpoint_timeout 1h (no checkpoint inside a timed
run: a CHECKPOINT runs before each), wal_level left at replica (the deployment streams to a
replica), autovacuum left on, statements slower than 1 s logged. Each run's database is made
with `CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY` from a template that was VACUUM
ANALYZEd once after its import (what autovacuum does after a large import), and dropped after
the run. The server's CPU time of a run (its backends', summed by the postmaster as it reaps
them) is printed beside the client's: a whole psql or pitstop process's CPU says little when
the work is the server's.

usage: Benchmarks/postgres.py [--vms N] [--sets N] [--regions N] [--runs N] [--rounds N]
                              [--seconds S] [--connections C] [--keep DIR] [--skip-build]
                              [--binary PATH] [--only import|plan|serve|firstpolls]
                              [--polls P]
--vms N scales the fleet down for a quick try. --binary PATH uses that pitstop (a debug build,
say) and builds nothing; otherwise `swift build -c release` runs first unless --skip-build, and
.build/release/pitstop is used. Progress goes to stderr, the results to stdout. Every figure is
wall-clock time unless it says CPU. Run it on a quiet machine; a sub-command that fails stops
the run, printing the command, its exit status and its stderr.
"""
import argparse
import glob
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import fail, measure, remove_db, verdict  # noqa: E402  (helpers shared with run.py)
from serve import PATH as EVENTS_PATH, free_port, wrk  # noqa: E402  (and with serve.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAN_NOW = "2026-12-01T00:00:00Z"
USER = "pitstop"

SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "512MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "1h",
    "max_connections": "100",
    "log_min_duration_statement": "1s",
}


def progress(text):
    print(text, file=sys.stderr, flush=True)


def run(cmd, env=None, input=None, cwd=None):
    """A helper command's stdout; a failure stops the run with its stderr."""
    done = subprocess.run(cmd, env=env, input=input, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        fail(cmd, done.returncode, done.stderr, done.stdout or "")
    return done.stdout


def spread(runs):
    return ", ".join(f"{r:.2f}" for r in runs)


# -- the PostgreSQL server ------------------------------------------------------------------

def pg_bin():
    """The newest Debian PostgreSQL's program directory (initdb and pg_ctl are not on PATH)."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]) if d.split("/")[-2].isdigit() else 0)
    for d in reversed(dirs):
        if all(os.access(os.path.join(d, p), os.X_OK) for p in ("initdb", "pg_ctl", "psql")):
            return d
    sys.exit("PostgreSQL's initdb, pg_ctl and psql are missing: apt-get install postgresql")


class Cluster:
    """A throwaway PostgreSQL cluster on a Unix socket in a temporary directory."""

    def __init__(self):
        self.bin = pg_bin()
        self.dir = tempfile.mkdtemp(prefix="pitstop-pg-bench-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.started = False
        # initdb and pg_ctl refuse to run as root: there the cluster is the postgres user's.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    def program(self, name):
        return os.path.join(self.bin, name)

    def start(self):
        run(self.as_user + [self.program("initdb"), "-D", self.data, "-U", USER, "-A", "trust", "-E", "UTF8",
                            "--locale=C.UTF-8", "--no-sync"], cwd=self.dir)
        options = f"-k {self.dir} -c listen_addresses='' " + " ".join(f"-c {k}={v}" for k, v in SETTINGS.items())
        run(self.as_user + [self.program("pg_ctl"), "-D", self.data, "-o", options, "-l", self.log, "-w", "-t", "120", "start"],
            cwd=self.dir)
        self.started = True
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.postmaster = int(f.readline())
        self.version = self.value("postgres", "SHOW server_version")

    def stop(self, keep=None):
        if self.started:
            done = subprocess.run(self.as_user + [self.program("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop"],
                                  cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if done.returncode != 0:
                subprocess.run(self.as_user + [self.program("pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "stop"],
                               cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.started = False
        if keep and os.path.exists(self.log):
            shutil.copy(self.log, os.path.join(keep, "postgres-server.log"))
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db):
        return f"postgres://{USER}@/{db}?host={self.dir}"

    def psql(self, db, *args):
        return [self.program("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-U", USER, "-d", db, *args]

    def sql(self, db, text):
        return run(self.psql(db, "-A", "-t", "-c", text))

    def value(self, db, text):
        return self.sql(db, text).strip()

    def create(self, db, template=None):
        """A fresh database, as a file copy of `template` (none: an empty one)."""
        self.sql("postgres", f"DROP DATABASE IF EXISTS {db}")
        sql = f"CREATE DATABASE {db} TEMPLATE {template or 'template0'} STRATEGY FILE_COPY"
        # A backend of the template's last client may still be exiting.
        for attempt in range(50):
            done = subprocess.run(self.psql("postgres", "-c", sql), capture_output=True, text=True)
            if done.returncode == 0:
                return
            if "being accessed by other users" not in done.stderr or attempt == 49:
                fail(self.psql("postgres", "-c", sql), done.returncode, done.stderr)
            time.sleep(0.2)

    def drop(self, db):
        self.sql("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    def freeze_template(self, db):
        """Statistics and a visibility map once, then no connections: a template to copy."""
        self.sql(db, "VACUUM ANALYZE")
        self.wait_idle(db)
        self.sql("postgres", f"ALTER DATABASE {db} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")

    def checkpoint(self):
        self.sql("postgres", "CHECKPOINT")

    def children(self):
        """The postmaster's children: (pid, state, command line)."""
        try:
            with open(f"/proc/{self.postmaster}/task/{self.postmaster}/children") as f:
                pids = f.read().split()
        except OSError:
            return []
        found = []
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            found.append((pid, state, cmd))
        return found

    def wait_idle(self, db, seconds=10):
        """Until the backends of `db`'s clients (db None: every client's) have exited and the
        postmaster has reaped them (a zombie's CPU time is not yet its parent's)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            # An exiting process has no command line left (its memory is gone) before it
            # turns zombie; its CPU time reaches the postmaster only once reaped.
            if not any(state == "Z" or not cmd.strip() or (cmd.startswith(f"postgres: {USER} ") and (db is None or f" {db} " in cmd))
                       for _, state, cmd in self.children()):
                return
            time.sleep(0.02)

    def reaped_cpu(self):
        """CPU seconds of the postmaster's children that have exited (cutime + cstime): every
        backend's, once its client is gone."""
        with open(f"/proc/{self.postmaster}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")

    def timed(self, cmd, db, env=None):
        """One whole client process against `db`, measured with wait4, and the CPU time of the
        server's backends for it (counted once they exited)."""
        self.checkpoint()
        self.wait_idle(None)
        before = self.reaped_cpu()
        r = measure(cmd, env=env, ok=(0,))
        self.wait_idle(db)
        return r, self.reaped_cpu() - before


# -- the fleet -------------------------------------------------------------------------------

def floor_csv(work):
    """vms.csv with the columns Pitstop computes: round-robin domains per set, key = row."""
    with open(os.path.join(work, "fleet.json")) as f:
        sets = {s["name"]: (s["updateDomains"], s["faultDomains"]) for s in json.load(f)["availabilitySets"]}
    joined = dict.fromkeys(sets, 0)
    path = os.path.join(work, "floor.csv")
    with open(os.path.join(work, "vms.csv")) as rows, open(path, "w") as out:
        next(rows)
        out.write("name,region,subscription,availability_set,update_domain,fault_domain,ip_address,key\n")
        for key, row in enumerate(rows, start=1):
            name, region, subscription, set_name, ud, fd = row.rstrip("\n").split(",")
            if set_name and not ud:
                n = joined[set_name]
                joined[set_name] = n + 1
                uds, fds = sets[set_name]
                ud, fd = str(n % uds), str(n % fds)
            out.write(f"{name},{region},{subscription},{set_name},{ud},{fd},,{key}\n")
    return path


# The indexes and constraints of vms, as the catalog defines them.
INDEX_DIGEST = ("SELECT string_agg(d, '; ' ORDER BY d) FROM (SELECT indexname || ': ' || indexdef AS d FROM pg_indexes "
                "WHERE tablename = 'vms' UNION ALL SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'vms'::regclass) AS defined")
PLACEMENT_DIGEST = ("SELECT count(*) || ' ' || md5(string_agg(name || ',' || coalesce(update_domain::text, '') || ',' "
                    "|| coalesce(fault_domain::text, ''), ';' ORDER BY name)) || ' ' || count(DISTINCT key) FROM vms")


# -- import -----------------------------------------------------------------------------------

def import_part(pg, pitstop, work, args, env, results):
    csv = os.path.join(work, "vms.csv")
    floor = floor_csv(work)
    copy_sql = f"\\copy vms FROM '{csv}' WITH (FORMAT csv, HEADER true)"
    floor_sql = (f"\\copy vms(name, region, subscription, availability_set, update_domain, fault_domain, ip_address, key) "
                 f"FROM '{floor}' WITH (FORMAT csv, HEADER true)")
    plain_table = ('CREATE TABLE vms (name text COLLATE "C" PRIMARY KEY, region text, subscription text, '
                   "availability_set text, update_domain text, fault_domain text)")

    def copy_run():
        pg.create("bench_copy")
        pg.sql("bench_copy", plain_table)
        r = pg.timed(pg.psql("bench_copy", "-c", copy_sql), "bench_copy")
        n = int(pg.value("bench_copy", "SELECT count(*) FROM vms"))
        if n != args.vms:
            sys.exit(f"psql \\copy left {n:,} rows, not {args.vms:,}")
        pg.drop("bench_copy")
        return r

    digests, indexes = {}, {}

    def psql_run(kind, *psql_args):
        """A psql load into a fresh copy of the fleet's template; the first of its kind is checked."""
        db = f"bench_{kind}"
        pg.create(db, "tmpl_fleet")
        r = pg.timed(pg.psql(db, *psql_args), db)
        if kind not in digests:
            digests[kind] = pg.value(db, PLACEMENT_DIGEST)
            indexes[kind] = pg.value(db, INDEX_DIGEST)
        pg.drop(db)
        return r

    # (c): the statements that drop each index of vms and make it again, from the catalog, as
    # Pitstop's PostgresIndexRebuild reads them.
    remade_script = os.path.join(work, "floor-remade.sql")
    with open(remade_script, "w") as f:
        f.write("BEGIN;\n"
                "CREATE TEMP TABLE remake ON COMMIT DROP AS\n"
                "SELECT i.indexrelid AS id,\n"
                "       CASE WHEN c.oid IS NULL THEN format('DROP INDEX %s', i.indexrelid::regclass)\n"
                "            ELSE format('ALTER TABLE %s DROP CONSTRAINT %I', i.indrelid::regclass, c.conname) END AS drop_it,\n"
                "       CASE WHEN c.oid IS NULL THEN pg_get_indexdef(i.indexrelid)\n"
                "            ELSE format('ALTER TABLE %s ADD CONSTRAINT %I %s', i.indrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) END AS make_it\n"
                "FROM pg_index i LEFT JOIN pg_constraint c\n"
                "  ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')\n"
                "WHERE i.indrelid = 'vms'::regclass\n"
                "  AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid);\n"
                "SELECT drop_it FROM remake ORDER BY id \\gexec\n"
                f"{floor_sql}\n"
                "SELECT make_it FROM remake ORDER BY id \\gexec\n"
                "COMMIT;\n")

    def pitstop_run():
        pg.create("bench_import", "tmpl_fleet")
        r = pg.timed([pitstop, "import", csv, "--db", pg.url("bench_import")], "bench_import", env=env)
        n = int(pg.value("bench_import", "SELECT count(*) FROM vms"))
        if n != args.vms:
            sys.exit(f"pitstop import left {n:,} VMs in vms, not {args.vms:,}")
        if "pitstop" not in digests:
            digests["pitstop"] = pg.value("bench_import", PLACEMENT_DIGEST)
            indexes["pitstop"] = pg.value("bench_import", INDEX_DIGEST)
        pg.drop("bench_import")
        return r

    kinds = {"copy": copy_run, "floor": lambda: psql_run("floor", "-c", floor_sql),
             "remade": lambda: psql_run("remade", "-f", remade_script), "pitstop": pitstop_run}
    names = list(kinds)
    samples = {n: [] for n in names}
    for i in range(args.runs):
        turn = i % len(names)
        for n in names[turn:] + names[:turn]:  # each takes each place in turn
            progress(f"import   round {i + 1}/{args.runs}: {n} ...")
            samples[n].append(kinds[n]())
            progress(f"         {samples[n][-1][0].wall:.2f} s")

    def med(n, f):
        return statistics.median(f(r) for r in samples[n])

    wall = {n: med(n, lambda r: r[0].wall) for n in names}
    client = {n: med(n, lambda r: r[0].cpu) for n in names}
    server = {n: med(n, lambda r: r[1]) for n in names}
    peak = max(r[0].mb for r in samples["pitstop"])
    ratio = wall["pitstop"] / wall["copy"]
    placed = len({digests.get(n) for n in ("floor", "remade", "pitstop")}) == 1
    indexed = len({indexes.get(n) for n in ("floor", "remade", "pitstop")}) == 1

    def line(label, n):
        return f"         {label:<55}{wall[n]:6.2f} s ({client[n]:5.2f} / {server[n]:5.2f} s)"
    results.append(
        f"import   {args.vms:,} VMs, each into a fresh database, interleaved, median of {args.runs}, wall (client CPU / server CPU):\n"
        + line("(a) psql \\copy, same columns, PRIMARY KEY on name", "copy") + "\n"
        + line("(b) psql \\copy into Pitstop's vms, indexes kept", "floor") + "\n"
        + line("(c) psql: the same, indexes dropped and made again", "remade") + "\n"
        + line("pitstop import (COPY)", "pitstop") + f", peak {peak:.0f} MB\n"
        f"         ratio {ratio:4.2f} to (a) (target <= 1.5: {verdict(ratio <= 1.5)})   {wall['pitstop'] / wall['remade']:4.2f} to (c)   "
        f"((b) is {wall['floor'] / wall['copy']:4.2f}x (a), (c) {wall['remade'] / wall['copy']:4.2f}x (a))\n"
        f"         runs (wall s): " + "   ".join(f"{n} {spread(r[0].wall for r in samples[n])}" for n in names) + "\n"
        f"         checks: {args.vms:,} VMs in vms after each pitstop import; the floors' domains "
        + ("match Pitstop's placement (count, md5 of name/UD/FD, distinct keys)" if placed
           else f"DIFFER from Pitstop's: (b) {digests.get('floor')} (c) {digests.get('remade')} pitstop {digests.get('pitstop')}")
        + ("; vms has the same indexes and constraints after (b), (c) and Pitstop" if indexed
           else "; the indexes of vms DIFFER after (b), (c) and Pitstop: "
           + " | ".join(f"{n}: {indexes.get(n)}" for n in ("floor", "remade", "pitstop"))))


# -- plan ------------------------------------------------------------------------------------

def plan_part(pg, pitstop, work, args, env, results):
    env = dict(env, PITSTOP_NOW=PLAN_NOW)
    fleet_db = os.path.join(work, "fleet.sqlite")
    planned_db = os.path.join(work, "plan.sqlite")
    run(["sqlite3", "-bail", fleet_db, "PRAGMA wal_checkpoint(TRUNCATE);"])
    sizes = {}

    checks = {"postgres": [], "sqlite": []}
    # `upcoming --format json` of the whole plan, once on each engine (the first round): the
    # largest listing an operator asks for, a million events rendered.
    listings = {}
    listing = [pitstop, "upcoming", "--within", "90d", "--format", "json"]

    def pg_run():
        pg.create("bench_plan", "tmpl_vms")
        r = pg.timed([pitstop, "plan", "--kind", "reboot", "--db", pg.url("bench_plan")], "bench_plan", env=env)
        sizes["postgres"] = pg.value("bench_plan", "SELECT (SELECT count(*) FROM waves) || ' ' || (SELECT count(*) FROM wave_vms)")
        checks["postgres"].append(pg.timed([pitstop, "check", "--db", pg.url("bench_plan")], "bench_plan", env=env))
        if "postgres" not in listings:
            listings["postgres"] = pg.timed(listing + ["--db", pg.url("bench_plan")], "bench_plan", env=env)
        pg.drop("bench_plan")
        return r

    def sqlite_run():
        remove_db(planned_db)
        shutil.copy(fleet_db, planned_db)
        r = measure([pitstop, "plan", "--kind", "reboot", "--db", planned_db], env=env, ok=(0,))
        sizes["sqlite"] = run(["sqlite3", "-bail", planned_db,
                               "SELECT (SELECT count(*) FROM waves) || ' ' || (SELECT count(*) FROM wave_vms)"]).strip()
        run(["sqlite3", "-bail", planned_db, "PRAGMA wal_checkpoint(TRUNCATE);"])
        checks["sqlite"].append((measure([pitstop, "check", "--db", planned_db], env=env, ok=(0,)), 0.0))
        if "sqlite" not in listings:
            listings["sqlite"] = (measure(listing + ["--db", planned_db], env=env, ok=(0,)), 0.0)
        remove_db(planned_db)
        return r, 0.0

    kinds = {"postgres": pg_run, "sqlite": sqlite_run}
    names = list(kinds)
    samples = {n: [] for n in names}
    for i in range(args.runs):
        for n in names[i % 2:] + names[:i % 2]:
            progress(f"plan     round {i + 1}/{args.runs}: {n} ...")
            samples[n].append(kinds[n]())
            progress(f"         {samples[n][-1][0].wall:.2f} s")
    wall = {n: statistics.median(r[0].wall for r in samples[n]) for n in names}
    cpu = {n: statistics.median(r[0].cpu for r in samples[n]) for n in names}
    server = statistics.median(r[1] for r in samples["postgres"])
    peak = {n: max(r[0].mb for r in samples[n]) for n in names}
    ratio = wall["postgres"] / wall["sqlite"]
    waves, pairs = map(int, sizes["sqlite"].split())
    results.append(
        f"plan     pitstop plan --kind reboot over {args.vms:,} VMs, interleaved, median of {args.runs}:\n"
        f"         SQLite      {wall['sqlite']:6.2f} s (CPU {cpu['sqlite']:5.2f} s, peak {peak['sqlite']:.0f} MB)   runs {spread(r[0].wall for r in samples['sqlite'])}\n"
        f"         PostgreSQL  {wall['postgres']:6.2f} s (client CPU {cpu['postgres']:5.2f} s, server CPU {server:5.2f} s, peak {peak['postgres']:.0f} MB)   "
        f"runs {spread(r[0].wall for r in samples['postgres'])}\n"
        f"         ratio {ratio:4.2f} (target <= 2: {verdict(ratio <= 2)})   plan on both: {waves:,} waves, {pairs:,} (wave, VM) pairs"
        + ("" if sizes["postgres"] == sizes["sqlite"] else f"   DIFFERENT on PostgreSQL: {sizes['postgres']} (waves, pairs)"))
    check_wall = {n: statistics.median(r[0].wall for r in checks[n]) for n in names}
    check_cpu = {n: statistics.median(r[0].cpu for r in checks[n]) for n in names}
    check_server = statistics.median(r[1] for r in checks["postgres"])
    results.append(
        f"check    pitstop check of that plan ({pairs:,} events against every rule), after each plan, median of {args.runs}:\n"
        f"         SQLite      {check_wall['sqlite']:6.2f} s (CPU {check_cpu['sqlite']:5.2f} s)   runs {spread(r[0].wall for r in checks['sqlite'])}\n"
        f"         PostgreSQL  {check_wall['postgres']:6.2f} s (client CPU {check_cpu['postgres']:5.2f} s, server CPU {check_server:5.2f} s)   "
        f"runs {spread(r[0].wall for r in checks['postgres'])}\n"
        f"         ratio {check_wall['postgres'] / check_wall['sqlite']:4.2f} (no target)")
    lp, ls = listings["postgres"], listings["sqlite"][0]
    results.append(
        f"upcoming pitstop upcoming --within 90d --format json of that plan (its events within 90 days), in the first round, once:\n"
        f"         SQLite      {ls.wall:6.2f} s (CPU {ls.cpu:5.2f} s, peak {ls.mb:.0f} MB)\n"
        f"         PostgreSQL  {lp[0].wall:6.2f} s (client CPU {lp[0].cpu:5.2f} s, server CPU {lp[1]:5.2f} s, peak {lp[0].mb:.0f} MB)\n"
        f"         ratio {lp[0].wall / ls.wall:4.2f} (no target)")


# -- serve -----------------------------------------------------------------------------------

def show_json(pitstop, args_, env):
    return json.loads(run([pitstop, *args_, "--format", "json"], env=env))


def prepare_served(pitstop, db, work, tag, env, not_before, vm=None):
    """Plans a freeze of region-00 on `db` starting at `not_before` and gives a VM of its first
    wave (`vm` if given, which must be in it) 127.0.0.1; returns that VM's name."""
    run([pitstop, "plan", "--kind", "freeze", "--regions", "region-00", "--not-before", not_before, "--db", db], env=env)
    events = show_json(pitstop, ["upcoming", "--region", "region-00", "--within", "30m", "--db", db], env)["events"]
    first = [e["vm"] for e in events if e["start"] == events[0]["start"]] if events else []
    if vm is None:
        vm = next((e["vm"] for e in events if e.get("availabilitySet") and e["vm"] in first), None) or (first[0] if first else None)
    if vm is None or vm not in first:
        sys.exit(f"the freeze planned on {tag} has no first-wave event for {vm or 'any VM'} within 30 minutes: nothing to poll")
    shown = show_json(pitstop, ["vm", "show", vm, "--db", db], env)
    path = os.path.join(work, f"address-{tag}.csv")
    with open(path, "w") as f:
        f.write("name,region,subscription,availabilitySet,updateDomain,faultDomain,ipAddress\n")
        f.write(f"{vm},{shown['region']},{shown['subscription']},{shown.get('availabilitySet') or ''},"
                f"{'' if shown.get('updateDomain') is None else shown['updateDomain']},"
                f"{'' if shown.get('faultDomain') is None else shown['faultDomain']},127.0.0.1\n")
    run([pitstop, "import", path, "--db", db], env=env)
    return vm


def wait_for_events(url, seconds=240):
    """The polled VM's document once it holds an event (a plan starts at a whole minute)."""
    deadline = time.time() + seconds
    document = b""
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers={"Metadata": "true"}), timeout=2) as r:
                document = r.read()
            if json.loads(document)["Events"]:
                return document
        except Exception:
            pass
        time.sleep(0.5)
    sys.exit(f"{url} answered no document with events within {seconds} s (last: {document[:200]!r})")


def serve_part(pg, pitstop, work, args, env, results):
    if not shutil.which("wrk"):
        results.append("serve    skipped: wrk is missing (apt-get install wrk)")
        progress("serve    skipped: wrk is missing (apt-get install wrk)")
        return
    env = dict(env)
    env.pop("PITSTOP_NOW", None)  # the server takes the real clock; so must the freeze it serves
    sqlite_db = os.path.join(work, "serve.sqlite")
    remove_db(sqlite_db)
    run(["sqlite3", "-bail", os.path.join(work, "fleet.sqlite"), "PRAGMA wal_checkpoint(TRUNCATE);"])
    shutil.copy(os.path.join(work, "fleet.sqlite"), sqlite_db)
    pg.create("bench_serve", "tmpl_vms")
    pg_url = pg.url("bench_serve")
    # Both freezes start at the same whole minute, at least the 15 minutes' notice from now, so
    # both plans are the same and the same VM is polled on both; its first wave enters the
    # documents 15 minutes before it starts, a minute or two from now.
    not_before = time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime((int(time.time()) // 60 + 17) * 60))
    progress(f"serve    planning a freeze of region-00 from {not_before} on each database ...")
    vm = prepare_served(pitstop, sqlite_db, work, "sqlite", env, not_before)
    prepare_served(pitstop, pg_url, work, "postgres", env, not_before, vm)
    servers = []
    try:
        urls = {}
        for tag, db in (("postgres-1", pg_url), ("postgres-2", pg_url), ("sqlite", sqlite_db)):
            port = free_port()
            log = open(os.path.join(work, f"serve-{tag}.log"), "w")
            servers.append(subprocess.Popen([pitstop, "serve", "--db", db, "--port", str(port), "--no-throttle"], env=env,
                                            stdout=subprocess.DEVNULL, stderr=log))
            log.close()
            urls[tag] = f"http://127.0.0.1:{port}{EVENTS_PATH}"
        progress("serve    waiting for the polled VMs' documents to hold events ...")
        documents = {tag: wait_for_events(url) for tag, url in urls.items()}

        def pair_round():
            out, errors = {}, []

            def one(tag):
                try:
                    out[tag] = wrk(urls[tag], args.seconds, args.connections, ["Metadata: true"])
                except Exception as e:  # noqa: BLE001  (reported below, after both ended)
                    errors.append(f"{tag}: {e}")
            threads = [threading.Thread(target=one, args=(t,)) for t in ("postgres-1", "postgres-2")]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                sys.exit(f"wrk failed: {errors}")
            return out

        pair, alone = [], []
        for i in range(args.rounds):
            for which in (("pair", "sqlite") if i % 2 == 0 else ("sqlite", "pair")):
                progress(f"serve    round {i + 1}/{args.rounds}: {'two servers on PostgreSQL' if which == 'pair' else 'one server on SQLite'} "
                         f"({args.seconds} s) ...")
                if which == "pair":
                    pair.append(pair_round())
                else:
                    alone.append(wrk(urls["sqlite"], args.seconds, args.connections, ["Metadata: true"]))
    finally:
        for p in servers:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        pg.wait_idle("bench_serve")
        pg.drop("bench_serve")
        remove_db(sqlite_db)
    totals = [r["postgres-1"][0] + r["postgres-2"][0] for r in pair]
    pg_rps = statistics.median(totals)
    each = {t: statistics.median(r[t][0] for r in pair) for t in ("postgres-1", "postgres-2")}
    p99 = {t: statistics.median(r[t][1] for r in pair) for t in ("postgres-1", "postgres-2")}
    lite_rps, lite_p99 = statistics.median(r[0] for r in alone), statistics.median(r[1] for r in alone)
    non2xx = sum(r[t][2] for r in pair for t in r) + sum(r[2] for r in alone)
    results.append(
        f"serve    GET {EVENTS_PATH} (Metadata: true) of `pitstop serve --no-throttle`, wrk -t2 -c{args.connections} -d{args.seconds}s "
        f"each, {args.rounds} rounds interleaved, medians:\n"
        f"         PostgreSQL, two servers at once  {pg_rps:>9,.0f} req/s in all ({each['postgres-1']:,.0f} + {each['postgres-2']:,.0f})   "
        f"p99 {p99['postgres-1']:6.2f} ms and {p99['postgres-2']:6.2f} ms   rounds {', '.join(f'{t:,.0f}' for t in totals)}\n"
        f"         SQLite, one server               {lite_rps:>9,.0f} req/s   p99 {lite_p99:6.2f} ms   "
        f"rounds {', '.join(f'{r[0]:,.0f}' for r in alone)}\n"
        f"         ratio {pg_rps / lite_rps:4.2f} (PostgreSQL pair / SQLite; no target; the 2 servers, PostgreSQL and wrk share {os.cpu_count()} cores)   "
        f"polled VM {vm}: documents of {len(documents['postgres-1'])} bytes on PostgreSQL, {len(documents['sqlite'])} on SQLite, "
        f"{len(json.loads(documents['sqlite'])['Events'])} event(s)"
        + (f"   {non2xx} non-2xx answers!" if non2xx else ""))


# -- the run ---------------------------------------------------------------------------------

def first_polls_part(pg, pitstop, work, args, env, results):
    import concurrent.futures
    import http.client
    polls = args.polls
    pg.create("bench_polls", "tmpl_vms")
    addresses = [f"127.20.{i // 250}.{i % 250 + 1}" for i in range(polls)]
    pg.sql("bench_polls", f"""
        UPDATE vms SET ip_address = '127.20.' || (s.n / 250) || '.' || (s.n % 250 + 1)
        FROM (SELECT name, row_number() OVER (ORDER BY name) - 1 AS n FROM vms ORDER BY name LIMIT {polls}) AS s
        WHERE vms.name = s.name""")
    servers, ports = [], []
    try:
        for tag in ("1", "2"):
            port = free_port()
            log = open(os.path.join(work, f"firstpolls-{tag}.log"), "w")
            servers.append(subprocess.Popen([pitstop, "serve", "--db", pg.url("bench_polls"), "--port", str(port), "--no-throttle"],
                                            env=env, stdout=subprocess.DEVNULL, stderr=log))
            log.close()
            ports.append(port)
        for port in ports:
            deadline = time.time() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                    break
                except Exception:
                    if time.time() > deadline:
                        sys.exit(f"pitstop serve on port {port} did not answer /healthz within 60 s")
                    time.sleep(0.2)

        def poll(i):
            connection = http.client.HTTPConnection("127.0.0.1", ports[i % 2], timeout=60, source_address=(addresses[i], 0))
            started = time.perf_counter()
            try:
                connection.request("GET", EVENTS_PATH, headers={"Metadata": "true"})
                response = connection.getresponse()
                body = response.read()
            finally:
                connection.close()
            if response.status != 200 or json.loads(body)["DocumentIncarnation"] != 1:
                sys.exit(f"poll from {addresses[i]}: {response.status} {body[:200]!r}")
            return time.perf_counter() - started

        def one_pass(name):
            progress(f"firstpolls {name}: {polls:,} polls, 64 at a time, over two servers ...")
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(64) as pool:
                latencies = sorted(pool.map(poll, range(polls)))
            wall = time.perf_counter() - started
            return polls / wall, latencies[int(len(latencies) * 0.99) - 1] * 1000, wall

        first, again = one_pass("first polls"), one_pass("the same polls again")
        stored = int(pg.value("bench_polls", "SELECT count(*) FROM scheduled_event_documents"))
        if stored != polls:
            sys.exit(f"the database holds {stored:,} incarnations after {polls:,} first polls")
    finally:
        for p in servers:
            p.terminate()
        for p in servers:
            p.wait()
        pg.drop("bench_polls")
    results.append(
        f"firstpolls {polls:,} VMs polled once each from their own address (127.20.x.y), 64 at a time, over two servers on PostgreSQL:\n"
        f"         first polls (each numbers a document)   {first[0]:8,.0f} polls/s   p99 {first[1]:7.2f} ms   ({first[2]:.2f} s)\n"
        f"         the same polls again (no write)         {again[0]:8,.0f} polls/s   p99 {again[1]:7.2f} ms   ({again[2]:.2f} s)\n"
        f"         ratio {first[0] / again[0]:4.2f} (first / again; no target)   checks: every answer 200 with DocumentIncarnation 1; "
        f"{polls:,} incarnations stored")


def main():
    parser = argparse.ArgumentParser(description="Pitstop on PostgreSQL against its baselines (issue 13).")
    parser.add_argument("--vms", type=int, default=1_000_000)
    parser.add_argument("--sets", type=int, default=2000)
    parser.add_argument("--regions", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3, help="runs of each import and plan (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds of each side for serve (default 3)")
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run's duration (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="each wrk run's connections (default 32)")
    parser.add_argument("--keep", help="work in this directory and keep it (and the server's log)")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--binary", help="use this pitstop and build nothing (default: .build/release/pitstop)")
    parser.add_argument("--only", choices=["import", "plan", "serve", "firstpolls"])
    parser.add_argument("--polls", type=int, default=20_000, help="VMs polled by firstpolls (default 20,000)")
    args = parser.parse_args()

    if args.binary:
        pitstop = os.path.abspath(args.binary)
    else:
        if not args.skip_build:
            progress("swift build -c release --product pitstop ...")
            done = subprocess.run(["swift", "build", "-c", "release", "--product", "pitstop"], cwd=ROOT,
                                  stdout=sys.stderr, stderr=sys.stderr)
            if done.returncode != 0:
                sys.exit(f"failed (exit {done.returncode}): swift build -c release --product pitstop (its output is above)")
        pitstop = os.path.join(ROOT, ".build", "release", "pitstop")
    if not os.access(pitstop, os.X_OK):
        sys.exit(f"{pitstop} is not an executable file (build it, or name one with --binary)")
    parts = [args.only] if args.only else ["import", "plan", "serve", "firstpolls"]

    # SIGTERM unwinds like Ctrl-C, so the cluster is stopped and removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    work = args.keep or tempfile.mkdtemp(prefix="pitstop-pg-bench-work-")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, PITSTOP_ACTOR="bench")
    env.pop("PITSTOP_DB", None)
    env.pop("PITSTOP_NOW", None)
    pg = Cluster()
    started = time.perf_counter()
    try:
        progress(f"generating {args.vms:,} VMs over {args.sets:,} sets in {args.regions} regions in {work}")
        run([sys.executable, os.path.join(ROOT, "Benchmarks", "generate-fleet.py"), work,
             "--vms", str(args.vms), "--sets", str(args.sets), "--regions", str(args.regions)])
        progress(f"starting PostgreSQL ({pg.bin}) in {pg.dir}")
        pg.start()
        fleet_json, vms_csv = os.path.join(work, "fleet.json"), os.path.join(work, "vms.csv")
        progress("template tmpl_fleet: the fleet without VMs (pitstop import fleet.json) ...")
        pg.create("tmpl_fleet")
        run([pitstop, "import", fleet_json, "--db", pg.url("tmpl_fleet")], env=env)
        pg.freeze_template("tmpl_fleet")
        if "plan" in parts or "serve" in parts or "firstpolls" in parts:
            progress("template tmpl_vms: the fleet and its VMs (pitstop import vms.csv) ...")
            pg.create("tmpl_vms", "tmpl_fleet")
            run([pitstop, "import", vms_csv, "--db", pg.url("tmpl_vms")], env=env)
            pg.freeze_template("tmpl_vms")
        if "plan" in parts or "serve" in parts:
            progress("SQLite fleet.sqlite: the same fleet and VMs ...")
            fleet_db = os.path.join(work, "fleet.sqlite")
            remove_db(fleet_db)
            run([pitstop, "import", fleet_json, "--db", fleet_db], env=env)
            run([pitstop, "import", vms_csv, "--db", fleet_db], env=env)

        results = []
        print(f"Pitstop on PostgreSQL {pg.version} against its baselines: {args.vms:,} VMs, {args.sets:,} sets, {args.regions} regions; "
              f"{os.cpu_count()} cores; {os.path.relpath(pitstop, ROOT) if pitstop.startswith(ROOT) else pitstop}", flush=True)
        print("server settings: " + ", ".join(f"{k}={v}" for k, v in SETTINGS.items()), flush=True)
        for part in parts:
            printed = len(results)
            {"import": import_part, "plan": plan_part, "serve": serve_part, "firstpolls": first_polls_part}[part](pg, pitstop, work, args, env, results)
            for result in results[printed:]:
                print("\n" + result, flush=True)
        print(f"\nwhole run {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        pg.stop(keep=args.keep)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
