#!/usr/bin/env python3
"""Pitstop's benchmarks: the targets of the inventory and scheduler issues, each printed with
its figures and its ratio against the named baseline, measured in the same run.

The storage targets (run alone with --only storage) are those of the plan storage in waves: a
table of waves (about 10,000 rows per million VMs) and a WITHOUT ROWID table of (wave, vm)
integer pairs, instead of one row per VM with every field copied.

  import    1,000,000 VMs (2,000 sets, 60 regions) from CSV, against the sqlite3 shell's
            .import of the same CSV into a table with the same columns and a UNIQUE index
            on name; each into a fresh database, three runs each, interleaved, medians of wall
            and of CPU time (user + system, from wait4). Target: at most 1.5x on wall time,
            peak memory under 300 MB.
  vm show   `pitstop vm show NAME` on that database, whole process. Target: under 50 ms.
  floor     the baseline for plan: the sqlite3 shell, on a fresh database, in one transaction,
            writes W wave rows (5 a set and 1 a region with single VMs: 10,003 at this scale;
            integer id, campaign, region, set, update domain, start and end as integer seconds,
            status) and one (wave, vm) integer pair a VM into a WITHOUT ROWID table with
            PRIMARY KEY (wave, vm) and an index on vm, pairs written in VM order (VM n of set s,
            n its place in the set, in wave 5s + n mod 5, as a round-robin fleet's plan has
            them), through the shell's generate_series (Debian's 3.40 shell has it), with the
            page cache the plan raises. Its time and the database's size are printed.
  plan      `pitstop plan --kind reboot` over the million VMs, whole process (reading the
            fleet included), against the floor: the two interleaved, three runs each, medians
            (a single run of either varied by 2x on the shared machine). Target: at most 4x,
            peak memory (the largest of the runs) under 500 MB.
  growth    what that plan adds to the database: db + -wal after the plan process ended and
            `PRAGMA wal_checkpoint(TRUNCATE)` ran, minus the same before (the fleet database
            checkpointed, so no -wal), with the tables and indexes that grew (dbstat).
            Target: at most 80 MB.
  single commands  `pitstop upcoming --vm NAME` and `pitstop event show ID` (the event of that
            VM) on the planned database, each against `pitstop --help`: the three interleaved,
            21 runs each after one warm-up round, medians. Target: each at most 10 ms more
            than --help.
  check     `pitstop check` over the planned database. Target: under 2 s, peak memory under
            300 MB.
  migrate   only when PITSTOP_OLD_BINARY names a binary of the previous release (the old
            layout): it imports the same fleet and plans a reboot campaign, then this binary's
            first command (`pitstop campaign list`, which migrates on open) is timed on a copy
            of that database. Target: under 60 s. Skipped, saying so, when the variable is unset.
  audit     `pitstop audit --vm NAME` over a 10,000,000-entry log (two subjects an entry,
            written straight by SQL: the query does not read the hashes). Target: under 100 ms.
  turn order  `pitstop plan --kind freeze --dry-run` over the million VMs with a weeknight and a
            weekend window on every region (each in its own zone), so that every group of linked
            regions has its turn orders placed and weighed, against the same command on the same
            fleet without windows, runs interleaved, median of 3 each. Target: at most 1.5x.
            Whole processes: both include reading the fleet and making the events. Then the
            planner alone (Benchmarks/planner-turn-order.swift, the same fleet in memory):
            without windows, with windows in one fixed turn order, with windows and the search.
  timeline  `GET /api/v1/timeline` for a week of a reboot campaign over 100,000 VMs (2,000 sets,
            60 regions, windows on every region), from `pitstop serve`, against the floor: the
            sqlite3 shell running the store's own GROUP BY over the same events and printing its
            rows as JSON, a whole process. Median of 7 each. Target (the page stays responsive):
            the answer within 2 s. It makes its own fleet (in a subfolder); alone with
            --only timeline. Its SQL (TIMELINE_FLOOR_SQL, TIMELINE_BUSIEST_DAY_SQL) mirrors the
            store's own query over waves (SQLiteEventRepository.waves) and must follow it.

The full run does all of these. --only storage runs import, vm show, floor, plan, growth, the
single commands, check and migrate; --only turn-order and --only timeline run those alone.

usage: Benchmarks/run.py [--vms N] [--sets N] [--regions N] [--audit-entries N] [--timeline-vms N]
                         [--keep DIR] [--skip-build] [--only storage|turn-order|timeline]
Run it on a quiet machine: every figure is wall-clock time unless it says CPU. MB is 2^20 bytes,
for memory and for files. PITSTOP_BINARY names another binary than .build/release/pitstop (with
--skip-build); PITSTOP_OLD_BINARY names the previous release's, for migrate. A sub-command
that fails stops the run, printing the command, its exit status and its stderr.
"""
import argparse
import calendar
import collections
import http.client
import json
import os
import resource
import shutil
import statistics
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MB = 1024 * 1024

Run = collections.namedtuple("Run", "wall cpu mb code")


def fail(cmd, code, err, out=""):
    """Stops the run, naming the command that failed and what it said."""
    sys.stdout.flush()
    text = f"failed (exit {code}): {' '.join(map(str, cmd))}\n"
    if out.strip():
        text += f"--- stdout ---\n{out.strip()[-4000:]}\n"
    text += f"--- stderr ---\n{err.strip()[-4000:] or '(empty)'}"
    sys.exit(text)


def measure(cmd, env=None, stdin=None, stdout=subprocess.DEVNULL, ok=(0, 1)):
    """Wall seconds, CPU seconds (user + system) and peak RSS in MB of one child, through
    wait4, and its exit status; any status outside `ok` stops the run."""
    # stderr goes to a file, read after the child ends: a pipe would block a child that
    # writes more than the pipe holds.
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=stdin, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        err = stderr.read().decode(errors="replace")
    if code not in ok:
        fail(list(cmd) + ([f"< {stdin.name}"] if hasattr(stdin, "name") else []), code, err)
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code)


def timed(cmd, env=None, stdin=None, stdout=subprocess.DEVNULL):
    """Seconds and this child's peak RSS in MB, through wait4."""
    r = measure(cmd, env=env, stdin=stdin, stdout=stdout)
    return r.wall, r.mb


def run(cmd, env=None, input=None, discard=False):
    """A helper command's stdout (discarded unread with `discard`, for timing); a failure stops
    the run with its stderr."""
    done = subprocess.run(cmd, env=env, input=input, stdout=subprocess.DEVNULL if discard else subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        fail(cmd, done.returncode, done.stderr, done.stdout or "")
    return done.stdout


def median_ms(cmd, env, runs=21):
    samples = []
    for _ in range(runs):
        seconds, _ = timed(cmd, env=env)
        samples.append(seconds * 1000)
    return statistics.median(samples), min(samples), max(samples)


def sqlite(db, script):
    run(["sqlite3", "-bail", db], input=script)


def sqlite_value(db, sql):
    return run(["sqlite3", "-bail", db, sql]).strip()


def remove_db(db):
    for f in (db, db + "-wal", db + "-shm"):
        if os.path.exists(f):
            os.remove(f)


def file_size(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


def db_bytes(db):
    """The database file and its -wal together."""
    return file_size(db) + file_size(db + "-wal")


def checkpoint(db):
    """Moves the -wal into the database and truncates it to 0 bytes."""
    sqlite(db, "PRAGMA wal_checkpoint(TRUNCATE);")


def object_sizes(db):
    """Bytes of each table and index, from dbstat."""
    out = run(["sqlite3", "-bail", "-separator", "\t", db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name"])
    return {name: int(size) for name, size in (line.split("\t") for line in out.splitlines() if line)}


def table_counts(db, tables):
    """Rows of those of `tables` that the database has."""
    present = set(sqlite_value(db, "SELECT group_concat(name, char(10)) FROM sqlite_schema WHERE type = 'table'").splitlines())
    return {t: int(sqlite_value(db, f'SELECT count(*) FROM "{t}"')) for t in tables if t in present}


def verdict(ok):
    return "ok" if ok else "MISSED"


def generate(work, vms, sets, regions):
    print(f"generating {vms:,} VMs over {sets:,} sets in {regions} regions in {work}", flush=True)
    run([sys.executable, os.path.join(ROOT, "Benchmarks", "generate-fleet.py"), work,
         "--vms", str(vms), "--sets", str(sets), "--regions", str(regions), "--windows"])


def import_fleet(pitstop, work, db, env):
    """The inventory, then the CSV of VMs (timed) into a fresh database."""
    remove_db(db)
    measure([pitstop, "import", os.path.join(work, "fleet.json"), "--db", db], env=env, ok=(0,))
    return measure([pitstop, "import", os.path.join(work, "vms.csv"), "--db", db], env=env, ok=(0,))


# -- import -------------------------------------------------------------------------------

def import_part(pitstop, work, env, runs=3):
    """sqlite3's .import and pitstop import, each into a fresh database, interleaved. Returns
    the fleet database (the last pitstop import's)."""
    csv = os.path.join(work, "vms.csv")
    baseline_db = os.path.join(work, "baseline.sqlite")
    script = os.path.join(work, "baseline.sql")
    with open(script, "w") as f:
        f.write("PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n"
                "CREATE TABLE vms(name TEXT, region TEXT, subscription TEXT, availabilitySet TEXT, updateDomain TEXT, faultDomain TEXT);\n"
                "CREATE UNIQUE INDEX vms_name ON vms(name);\n.mode csv\n"
                f".import --skip 1 '{csv}' vms\n")
    fleet_db = os.path.join(work, "fleet.sqlite")
    base, mine = [], []
    for _ in range(runs):
        remove_db(baseline_db)
        with open(script) as stdin:
            base.append(measure(["sqlite3", "-bail", baseline_db], stdin=stdin, ok=(0,)))
        mine.append(import_fleet(pitstop, work, fleet_db, env))
    remove_db(baseline_db)
    bw, bc = statistics.median(r.wall for r in base), statistics.median(r.cpu for r in base)
    pw, pc = statistics.median(r.wall for r in mine), statistics.median(r.cpu for r in mine)
    peak = max(r.mb for r in mine)
    ratio = pw / bw
    print(f"\nimport   median of {runs}: sqlite3 .import {bw:6.2f} s wall ({bc:5.2f} s CPU)   pitstop import {pw:6.2f} s wall "
          f"({pc:5.2f} s CPU)   ratio {ratio:4.2f} on wall (target <= 1.5: {verdict(ratio <= 1.5)}), {pc / bc:4.2f} on CPU   "
          f"peak {peak:5.0f} MB (target < 300: {verdict(peak < 300)})")
    print(f"         runs (wall/CPU s): sqlite3 {', '.join(f'{r.wall:.2f}/{r.cpu:.2f}' for r in base)}   "
          f"pitstop {', '.join(f'{r.wall:.2f}/{r.cpu:.2f}' for r in mine)}")
    return fleet_db


# -- plan: the floor, the plan, its growth -------------------------------------------------

def floor_sql(vms, sets, regions, start_s):
    """The floor's script: the waves and the (wave, vm) pairs of a reboot campaign over the
    generated fleet, in one transaction. VM v is in set v % sets (n = v // sets its place in
    the set) or, every 20th, a single VM of region v % regions (generate-fleet.py's layout)."""
    slots = 5 * -(-sets // regions)  # the waves of the sets of one region, one after another
    return f"""
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
-- The page cache the plan raises for its transaction: with the default 2 MB the index spills
-- mid-transaction and the floor is several times slower.
PRAGMA cache_size=-163840;
CREATE TABLE waves (
    id               INTEGER PRIMARY KEY,
    campaign         TEXT NOT NULL,
    region           TEXT NOT NULL,
    availability_set TEXT,
    update_domain    INTEGER,
    start_s          INTEGER NOT NULL,
    end_s            INTEGER NOT NULL,
    status           TEXT NOT NULL
);
CREATE TABLE wave_vms (wave INTEGER NOT NULL, vm INTEGER NOT NULL, PRIMARY KEY (wave, vm)) WITHOUT ROWID;
CREATE INDEX wave_vms_by_vm ON wave_vms(vm);
BEGIN;
-- Wave 5s + k: update domain k of set s (set s is in region s % regions).
INSERT INTO waves
SELECT value, 'bench-reboot', printf('region-%02d', (value / 5) % {regions}), printf('set-%04d', value / 5), value % 5,
       {start_s} + ((value / 5 / {regions}) * 5 + value % 5) * 2700, {start_s} + ((value / 5 / {regions}) * 5 + value % 5) * 2700 + 900,
       'scheduled'
FROM generate_series(0, {5 * sets - 1});
-- Wave 5 * sets + r: the single VMs of region r, after the sets.
INSERT INTO waves
SELECT {5 * sets} + r, 'bench-reboot', printf('region-%02d', r), NULL, NULL,
       {start_s} + {slots} * 2700, {start_s} + {slots} * 2700 + 900, 'scheduled'
FROM (SELECT DISTINCT value % {regions} AS r FROM generate_series(19, {min(vms - 1, 19 + 20 * regions)}, 20))
WHERE {vms} > 19;
INSERT INTO wave_vms
SELECT CASE WHEN value % 20 = 19 THEN {5 * sets} + value % {regions} ELSE 5 * (value % {sets}) + (value / {sets}) % 5 END, value
FROM generate_series(0, {vms - 1});
COMMIT;
"""


def floor_run(work, args, env):
    """One run of the floor on a fresh database; returns its measure and what it left."""
    db = os.path.join(work, "floor.sqlite")
    remove_db(db)
    start_s = calendar.timegm(time.strptime(env["PITSTOP_NOW"], "%Y-%m-%dT%H:%M:%SZ")) + 7 * 86400
    script = os.path.join(work, "floor.sql")
    with open(script, "w") as f:
        f.write(floor_sql(args.vms, args.sets, args.regions, start_s))
    with open(script) as stdin:
        r = measure(["sqlite3", "-bail", db], stdin=stdin, ok=(0,))
    left_wal = file_size(db + "-wal")
    checkpoint(db)
    return r, db, left_wal


def plan_run(pitstop, work, fleet_db, env):
    """One `pitstop plan --kind reboot` on a fresh copy of the fleet database."""
    planned_db = os.path.join(work, "planned.sqlite")
    remove_db(planned_db)
    checkpoint(fleet_db)
    shutil.copy(fleet_db, planned_db)
    before, objects_before = db_bytes(planned_db), object_sizes(planned_db)
    r = measure([pitstop, "plan", "--kind", "reboot", "--db", planned_db], env=env, ok=(0,))
    return r, planned_db, before, objects_before


def floor_and_plan(pitstop, work, fleet_db, args, env, runs=3):
    """The floor and the plan, interleaved, medians of `runs` each (one run of either on this
    shared machine varied by 2x); then what the last plan added to the database. Returns the
    planned database."""
    floors, plans = [], []
    for _ in range(runs):
        r, floor_db, left_wal = floor_run(work, args, env)
        floors.append(r)
        r, planned_db, before, objects_before = plan_run(pitstop, work, fleet_db, env)
        plans.append(r)
    fw, pw = statistics.median(r.wall for r in floors), statistics.median(r.wall for r in plans)
    counts = table_counts(floor_db, ["waves", "wave_vms"])
    print(f"floor    sqlite3, fresh database, one transaction: {counts['waves']:,} waves + {counts['wave_vms']:,} (wave, vm) pairs, "
          f"median of {runs} {fw:6.2f} s (peak {max(r.mb for r in floors):4.0f} MB)   database {db_bytes(floor_db) / MB:6.1f} MB "
          f"(db + -wal after wal_checkpoint(TRUNCATE); the shell left a {left_wal / MB:.1f} MB -wal)")
    print(f"         runs (wall/CPU s): {', '.join(f'{r.wall:.2f}/{r.cpu:.2f}' for r in floors)}")
    ratio = pw / fw
    peak = max(r.mb for r in plans)
    print(f"plan     pitstop plan --kind reboot, median of {runs} {pw:6.2f} s   ratio {ratio:5.2f} to the floor's median "
          f"(target <= 4: {verdict(ratio <= 4)})   peak {peak:5.0f} MB (target < 500: {verdict(peak < 500)})")
    print(f"         runs (wall/CPU s): {', '.join(f'{r.wall:.2f}/{r.cpu:.2f}' for r in plans)}")
    left_db, left_wal = file_size(planned_db), file_size(planned_db + "-wal")
    checkpoint(planned_db)
    after = db_bytes(planned_db)
    growth = (after - before) / MB
    print(f"growth   db + -wal {before / MB:6.1f} MB before, {after / MB:6.1f} MB after the plan and wal_checkpoint(TRUNCATE): "
          f"+{growth:5.1f} MB (target <= 80: {verdict(growth <= 80)})   "
          f"(as the plan left it: db {left_db / MB:.1f} MB + -wal {left_wal / MB:.1f} MB)")
    objects_after = object_sizes(planned_db)
    grew = sorted(((objects_after[n] - objects_before.get(n, 0), n) for n in objects_after), reverse=True)
    shown = [f"{n} +{d / MB:.1f}" for d, n in grew if d >= MB or d > 0.01 * (after - before)]
    free = int(sqlite_value(planned_db, "PRAGMA freelist_count")) * int(sqlite_value(planned_db, "PRAGMA page_size"))
    print(f"         grew (dbstat, MB): {', '.join(shown) or 'nothing'}; free pages {free / MB:.1f} MB")
    # Rows of every table that grew, whatever the layout calls them.
    rows = table_counts(planned_db, ["campaigns"] + [n for d, n in grew if d > 0])
    print(f"         rows of the tables that grew: {', '.join(f'{t} {n:,}' for t, n in rows.items())}")
    return planned_db


# -- single commands and check --------------------------------------------------------------

def single_commands(pitstop, db, env, vm, runs=21):
    """upcoming --vm and event show against --help, interleaved."""
    within = "120d"  # past the plan's 90-day horizon after the 7-day notice: the VM's event is in it
    listed = json.loads(run([pitstop, "upcoming", "--vm", vm, "--within", within, "--format", "json", "--db", db], env=env))
    events = listed.get("events") or []
    if not events:
        sys.exit(f"pitstop upcoming --vm {vm} --within {within} --db {db} listed no event: nothing to show")
    event_id = events[0]["id"]
    commands = {
        "pitstop --help": [pitstop, "--help"],
        f"upcoming --vm {vm}": [pitstop, "upcoming", "--vm", vm, "--within", within, "--db", db],
        f"event show {event_id}": [pitstop, "event", "show", event_id, "--db", db],
    }
    names = list(commands)
    samples = {n: [] for n in names}
    cpu = {n: [] for n in names}
    for i in range(runs + 1):
        for n in names[i % 3:] + names[:i % 3]:  # each takes each place in turn
            r = measure(commands[n], env=env, ok=(0,))
            if i > 0:  # round 0 warms the page cache
                samples[n].append(r.wall * 1000)
                cpu[n].append(r.cpu * 1000)
    help_ms, help_cpu = statistics.median(samples[names[0]]), statistics.median(cpu[names[0]])
    print(f"single commands on the planned database, interleaved, {runs} runs each after a warm-up round, medians "
          "(the target is on wall time; CPU time, user + system, shows how much of a gap is the machine's noise):")
    width = max(map(len, names))
    for n in names:
        med, med_cpu = statistics.median(samples[n]), statistics.median(cpu[n])
        line = f"         {n:<{width}}  median {med:6.1f} ms (min {min(samples[n]):.1f}, max {max(samples[n]):.1f}; CPU {med_cpu:.1f})"
        if n != names[0]:
            diff = med - help_ms
            line += f"   {diff:+6.1f} ms over --help (CPU {med_cpu - help_cpu:+.1f}) (target <= 10: {verdict(diff <= 10)})"
        print(line)


def check_part(pitstop, db, env):
    r = measure([pitstop, "check", "--db", db], env=env)
    print(f"check    {r.wall:6.2f} s ({r.cpu:5.2f} s CPU) (target < 2 s: {verdict(r.wall < 2)})   peak {r.mb:5.0f} MB "
          f"(target < 300: {verdict(r.mb < 300)})   exit {r.code} ({'clean' if r.code == 0 else 'violations found'})")


# -- migrate --------------------------------------------------------------------------------

def migrations(db):
    return sqlite_value(db, "SELECT group_concat(name, ' ') FROM (SELECT name FROM pitstop_migrations ORDER BY name)").split()


def migrate_part(pitstop, work, env):
    old = os.environ.get("PITSTOP_OLD_BINARY")
    if not old:
        print("migrate  skipped: PITSTOP_OLD_BINARY is unset (set it to a binary of the previous release, the old layout, "
              "to time this binary's first command on a database that release planned)")
        return
    if not (os.path.isfile(old) and os.access(old, os.X_OK)):
        sys.exit(f"PITSTOP_OLD_BINARY={old} is not an executable file")
    old_db = os.path.join(work, "old-layout.sqlite")
    print(f"migrate  building the old layout with {old}: import, plan a reboot campaign ...", flush=True)
    imported = import_fleet(old, work, old_db, env)
    planned = measure([old, "plan", "--kind", "reboot", "--db", old_db], env=env, ok=(0,))
    checkpoint(old_db)
    before, applied_before = db_bytes(old_db), migrations(old_db)
    db = os.path.join(work, "migrated.sqlite")
    remove_db(db)
    shutil.copy(old_db, db)
    first = measure([pitstop, "campaign", "list", "--db", db], env=env, ok=(0,))
    second = measure([pitstop, "campaign", "list", "--db", db], env=env, ok=(0,))
    checkpoint(db)
    applied = [m for m in migrations(db) if m not in applied_before]
    print(f"migrate  first command of this binary (campaign list) on the old layout: {first.wall:6.2f} s ({first.cpu:5.2f} s CPU, "
          f"peak {first.mb:5.0f} MB) (target < 60 s: {verdict(first.wall < 60)})   the next one {second.wall * 1000:.0f} ms")
    print(f"         migrations applied on open: {', '.join(applied) or 'none (the two binaries have the same schema)'}   "
          f"database {before / MB:.1f} MB before, {db_bytes(db) / MB:.1f} MB after (db + -wal, checkpointed)   "
          f"[old binary: import {imported.wall:.2f} s, plan {planned.wall:.2f} s]")


# -- turn order -----------------------------------------------------------------------------

def turn_order(pitstop, work, fleet_db, env, vms, runs=3):
    """Planning with windows on every region (turn orders weighed by placing them) against
    planning the same campaign without windows, runs interleaved."""
    windowed_db = os.path.join(work, "windowed.sqlite")
    sqlite(fleet_db, "PRAGMA wal_checkpoint(TRUNCATE);")
    shutil.copy(fleet_db, windowed_db)
    timed([pitstop, "import", os.path.join(work, "windows.json"), "--db", windowed_db], env=env)
    plan = [pitstop, "plan", "--kind", "freeze", "--dry-run"]
    plain, windowed = [], []
    for _ in range(runs):
        plain.append(timed(plan + ["--db", fleet_db], env=env)[0])
        windowed.append(timed(plan + ["--db", windowed_db], env=env)[0])
    report = os.path.join(work, "turn-order.txt")
    with open(report, "w") as out:
        timed(plan + ["--db", windowed_db], env=env, stdout=out)
    with open(report) as f:
        lines = f.read().splitlines()
    # After the title, the table's header and its rule.
    groups = lines[lines.index(next(l for l in lines if l.startswith("turn orders"))) + 3:] if any(l.startswith("turn orders") for l in lines) else []
    groups = [l for l in groups if not l.startswith("notices")]
    total = next((l for l in lines if l.startswith("total:")), "")
    a, b = statistics.median(plain), statistics.median(windowed)
    ratio = b / a
    print(f"turn order  plan --dry-run without windows {a:6.2f} s   with windows and the order search {b:6.2f} s   "
          f"ratio {ratio:4.2f} (target <= 1.5: {verdict(ratio <= 1.5)})   median of {runs}, "
          f"{len(groups)} groups of linked regions weighed")
    print(f"            with windows: {total}")
    for line in groups[:3]:
        print(f"            {line}")
    # The planner alone, without reading the fleet from SQLite: PitstopCore and the benchmark
    # compiled into one optimized module.
    core = [os.path.join(d, f) for d, _, files in os.walk(os.path.join(ROOT, "Sources", "PitstopCore")) for f in files if f.endswith(".swift")]
    binary = os.path.join(work, "planner-turn-order")
    built = subprocess.run(["swiftc", "-O", "-swift-version", "6", "-module-name", "PitstopCore", *sorted(core),
                            os.path.join(ROOT, "Benchmarks", "planner-turn-order.swift"), "-o", binary], capture_output=True, text=True)
    if built.returncode != 0:
        fail(built.args, built.returncode, built.stderr)
    out = run([binary, str(vms)])
    for line in out.splitlines():
        print(f"            {line}")


# -- timeline -------------------------------------------------------------------------------

# The store's query behind GET /api/v1/timeline, for the timeline's floor. It mirrors
# SQLiteEventRepository.waves (Sources/PitstopStore/EventRepository.swift: waveSummaries and
# EventRows.memberStates) over waves, their VMs and departures: when the store's query changes,
# change it here too.
TIMELINE_FLOOR_SQL = """
WITH picked AS (
    SELECT id FROM waves w WHERE (w.end_at > {start_s} AND w.start_at < {end_s})
        OR (w.actual_start < {end_s} AND (w.actual_end IS NULL OR w.actual_end > {start_s}))
        OR EXISTS (SELECT 1 FROM vm_departures d WHERE d.wave = w.id
                   AND d.actual_start < {end_s} AND (d.actual_end IS NULL OR d.actual_end > {start_s}))),
m AS (
    SELECT w.id AS wave, (SELECT count(*) FROM wave_vms p WHERE p.wave = w.id) - (SELECT count(*) FROM vm_departures d WHERE d.wave = w.id) AS n,
           w.status, w.approved_at, w.actual_start, w.actual_end FROM waves w WHERE w.id IN (SELECT id FROM picked)
    UNION ALL
    SELECT d.wave, 1, d.status, d.approved_at, d.actual_start, d.actual_end FROM vm_departures d WHERE d.wave IN (SELECT id FROM picked))
SELECT w.public_id, w.campaign, w.kind, w.region, w.availability_set, w.update_domain, w.start_at, w.end_at,
    MIN(CASE WHEN m.n > 0 THEN m.actual_start END),
    CASE WHEN SUM(m.n > 0 AND m.actual_start IS NOT NULL AND m.actual_end IS NULL) > 0 THEN NULL
         ELSE MAX(CASE WHEN m.n > 0 THEN m.actual_end END) END,
    SUM(m.n * (m.status = 'scheduled')), SUM(m.n * (m.status = 'started')), SUM(m.n * (m.status = 'completed')),
    SUM(m.n * (m.status = 'failed')), SUM(m.n * (m.status = 'cancelled')), SUM(m.n * (m.approved_at IS NOT NULL)),
    SUM(m.n * (m.status = 'scheduled' AND m.approved_at IS NULL))
FROM m JOIN waves w ON w.id = m.wave
GROUP BY m.wave ORDER BY w.start_at, w.public_id;
"""

# The day (YYYY-MM-DD) on which the most waves start, for the timeline's week. It reads the
# `waves` table too, and must follow the store's layout like TIMELINE_FLOOR_SQL.
TIMELINE_BUSIEST_DAY_SQL = "SELECT date(start_at, 'unixepoch') d FROM waves GROUP BY d ORDER BY count(*) DESC LIMIT 1"


def timeline(pitstop, work, env, runs=7):
    """The week of a planned campaign that holds the most waves, served, against the floor."""
    db = os.path.join(work, "timeline.sqlite")
    remove_db(db)
    timed([pitstop, "import", os.path.join(work, "fleet.json"), "--db", db], env=env)
    timed([pitstop, "import", os.path.join(work, "vms.csv"), "--db", db], env=env)
    timed([pitstop, "plan", "--kind", "reboot", "--db", db], env=env)
    sqlite(db, "PRAGMA wal_checkpoint(TRUNCATE);")
    # The busiest week: the 7 days from the day with the most wave starts.
    day = sqlite_value(db, TIMELINE_BUSIEST_DAY_SQL)
    start = f"{day}T00:00:00Z"
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(time.strptime(day, "%Y-%m-%d")) + 7 * 86400))
    floor = []
    for _ in range(runs):
        t = time.perf_counter()
        run(["sqlite3", "-bail", "-json", db, TIMELINE_FLOOR_SQL.format(start_s=calendar.timegm(time.strptime(start, "%Y-%m-%dT%H:%M:%SZ")),
                                                                       end_s=calendar.timegm(time.strptime(end, "%Y-%m-%dT%H:%M:%SZ")))],
            discard=True)
        floor.append(time.perf_counter() - t)

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = subprocess.Popen([pitstop, "serve", "--db", db, "--port", str(port), "--anonymous-read"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        query = urllib.parse.urlencode({"from": start, "to": end})
        served, size, waves = [], 0, 0
        for _ in range(runs):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            t = time.perf_counter()
            connection.request("GET", f"/api/v1/timeline?{query}")
            response = connection.getresponse()
            body = response.read()
            served.append(time.perf_counter() - t)
            connection.close()
            if response.status != 200:
                sys.exit(f"GET /api/v1/timeline answered {response.status}: {body[:300]!r}")
            size, waves = len(body), len(json.loads(body)["waves"])
    finally:
        server.terminate()
        server.wait()
    f, a = statistics.median(floor), statistics.median(served)
    print(f"timeline {waves:,} waves in {start[:10]}..{end[:10]}: floor (sqlite3 -json, the same GROUP BY) {f:5.2f} s   "
          f"GET /api/v1/timeline {a:5.2f} s ({size / 1e6:.1f} MB)   ratio {a / f:4.2f}   (target < 2 s: {verdict(a < 2)})")


# -- audit ----------------------------------------------------------------------------------

def audit_part(pitstop, work, fleet_db, env, args, vm):
    audit_db = os.path.join(work, "audit.sqlite")
    remove_db(audit_db)
    checkpoint(fleet_db)
    shutil.copy(fleet_db, audit_db)
    n = args.audit_entries
    base = int(sqlite_value(audit_db, "SELECT coalesce(max(seq), 0) FROM audit_log") or 0)
    print(f"writing a {n:,}-entry audit log ...", flush=True)
    sqlite(audit_db, f"""
        PRAGMA cache_size=-262144;
        BEGIN;
        WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {n})
        INSERT INTO audit_log(seq, at, actor, action, details, prev_hash, hash)
        SELECT {base} + i, strftime('%Y-%m-%dT%H:%M:%SZ', 1790000000 + i, 'unixepoch'), 'bench', 'vm.moved', '{{}}',
               printf('%064x', {base} + i - 1), printf('%064x', {base} + i) FROM k;
        WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {n})
        INSERT INTO audit_subjects(seq, kind, name)
        SELECT {base} + i, 'vm', printf('vm-%07d', i % {args.vms}) FROM k
        UNION ALL SELECT {base} + i, 'region', printf('region-%02d', i % {args.regions}) FROM k;
        COMMIT;
        """)
    med, lo, hi = median_ms([pitstop, "audit", "--vm", vm, "--db", audit_db], env)
    print(f"audit --vm  median {med:5.1f} ms (min {lo:.1f}, max {hi:.1f}) over 21 runs on {n:,} entries (target < 100 ms: {verdict(med < 100)})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=1_000_000)
    parser.add_argument("--sets", type=int, default=2000)
    parser.add_argument("--regions", type=int, default=60)
    parser.add_argument("--audit-entries", type=int, default=10_000_000)
    parser.add_argument("--timeline-vms", type=int, default=100_000)
    parser.add_argument("--keep", help="work in this directory and keep it")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--only", choices=["storage", "turn-order", "timeline"],
                        help="run these benchmarks alone: storage (import, vm show, floor, plan, growth, single commands, check, "
                             "migrate), turn-order (after generating and importing the fleet), timeline (on its own 100,000-VM fleet)")
    args = parser.parse_args()

    if not args.skip_build:
        done = subprocess.run(["swift", "build", "-c", "release", "--product", "pitstop"], cwd=ROOT)
        if done.returncode != 0:
            sys.exit(f"failed (exit {done.returncode}): swift build -c release --product pitstop (its output is above)")
    pitstop = os.environ.get("PITSTOP_BINARY") or os.path.join(ROOT, ".build", "release", "pitstop")
    work = args.keep or tempfile.mkdtemp(prefix="pitstop-bench-")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, PITSTOP_NOW="2026-11-22T10:00:00Z", PITSTOP_ACTOR="bench")
    env.pop("PITSTOP_DB", None)
    vm = f"vm-{args.vms // 2:07d}"

    if args.only != "timeline":
        generate(work, args.vms, args.sets, args.regions)

    if args.only == "turn-order":
        fleet_db = os.path.join(work, "fleet.sqlite")
        import_fleet(pitstop, work, fleet_db, env)
        turn_order(pitstop, work, fleet_db, env, args.vms)
    elif args.only in (None, "storage"):
        fleet_db = import_part(pitstop, work, env)
        med, lo, hi = median_ms([pitstop, "vm", "show", vm, "--db", fleet_db], env)
        print(f"vm show  median {med:5.1f} ms (min {lo:.1f}, max {hi:.1f}) over 21 runs (target < 50 ms: {verdict(med < 50)})")
        print()
        planned_db = floor_and_plan(pitstop, work, fleet_db, args, env)
        single_commands(pitstop, planned_db, env, vm)
        check_part(pitstop, planned_db, env)
        print()
        migrate_part(pitstop, work, env)
        if args.only is None:
            print()
            turn_order(pitstop, work, fleet_db, env, args.vms)
            print()
            audit_part(pitstop, work, fleet_db, env, args, vm)
    if args.only in (None, "timeline"):
        sub = os.path.join(work, "timeline")
        print(f"\ntimeline: generating {args.timeline_vms:,} VMs over {args.sets:,} sets in {args.regions} regions in {sub}", flush=True)
        run([sys.executable, os.path.join(ROOT, "Benchmarks", "generate-fleet.py"), sub,
             "--vms", str(args.timeline_vms), "--sets", str(args.sets), "--regions", str(args.regions), "--windows"])
        timeline(pitstop, sub, env)

    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
