#!/usr/bin/env python3
"""Pitstop's benchmarks: the targets of the inventory and scheduler issues, each printed with
its figures and its ratio against the named baseline, measured in the same run.

  import    1,000,000 VMs (2,000 sets, 60 regions) from CSV, against the sqlite3 shell's
            .import of the same CSV into a table with the same columns and a UNIQUE index
            on name. Target: at most 1.5x, peak memory under 300 MB.
  vm show   `pitstop vm show NAME` on that database, whole process. Target: under 50 ms.
  plan      a reboot campaign over the million VMs, planned and written, against the floor:
            a plain INSERT of the same event rows into the same table. Target: at most 2x,
            peak memory under 1 GB.
  upcoming  `pitstop upcoming --vm NAME` on the planned database. Target: under 50 ms.
  check     `pitstop check` over the million events. Target: under 10 s.
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
            the answer within 2 s. Run alone with --only timeline (it makes its own fleet).

usage: Benchmarks/run.py [--vms N] [--keep DIR] [--skip-build] [--only turn-order|timeline]
Run it on a quiet machine: every figure is wall-clock time. PITSTOP_BINARY names another binary
than .build/release/pitstop (with --skip-build).
"""
import argparse
import calendar
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


def timed(cmd, env=None, stdin=None, stdout=subprocess.DEVNULL):
    """Seconds and this child's peak RSS in MB, through wait4."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"failed ({code}): {' '.join(cmd)}\n{err}")
    return seconds, usage.ru_maxrss / 1024


def median_ms(cmd, env, runs=21):
    samples = []
    for _ in range(runs):
        seconds, _ = timed(cmd, env=env)
        samples.append(seconds * 1000)
    return statistics.median(samples), min(samples), max(samples)


def sqlite(db, script):
    subprocess.run(["sqlite3", db], input=script.encode(), check=True, stdout=subprocess.DEVNULL)


def verdict(ok):
    return "ok" if ok else "MISSED"


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
        sys.exit(f"failed to compile the planner benchmark:\n{built.stderr}")
    out = subprocess.run([binary, str(vms)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        print(f"            {line}")


# The store's query behind GET /api/v1/timeline (EventRepository.waves), for the floor.
TIMELINE_SQL = """
SELECT wave, MIN(campaign), MIN(kind), MIN(region), MIN(availability_set), MIN(update_domain),
    MIN(start_utc), MAX(end_utc), MIN(actual_start),
    CASE WHEN SUM(actual_start IS NOT NULL AND actual_end IS NULL) > 0 THEN NULL ELSE MAX(actual_end) END,
    SUM(status = 'scheduled'), SUM(status = 'started'), SUM(status = 'completed'), SUM(status = 'failed'),
    SUM(status = 'cancelled'), SUM(approved_at IS NOT NULL), SUM(status = 'scheduled' AND approved_at IS NULL)
FROM events
WHERE wave IN (SELECT wave FROM events
    WHERE (end_utc > '{start}' AND start_utc < '{end}') OR (actual_start < '{end}' AND (actual_end IS NULL OR actual_end > '{start}')))
GROUP BY wave ORDER BY MIN(start_utc), wave;
"""


def timeline(pitstop, work, env, runs=7):
    """The week of a planned campaign that holds the most waves, served, against the floor."""
    db = os.path.join(work, "timeline.sqlite")
    for f in (db, db + "-wal", db + "-shm"):
        if os.path.exists(f):
            os.remove(f)
    timed([pitstop, "import", os.path.join(work, "fleet.json"), "--db", db], env=env)
    timed([pitstop, "import", os.path.join(work, "vms.csv"), "--db", db], env=env)
    timed([pitstop, "plan", "--kind", "reboot", "--db", db], env=env)
    sqlite(db, "PRAGMA wal_checkpoint(TRUNCATE);")
    # The busiest week: the 7 days from the day with the most wave starts.
    day = subprocess.run(["sqlite3", db, "SELECT substr(start_utc, 1, 10) d FROM events GROUP BY d ORDER BY count(DISTINCT wave) DESC LIMIT 1"],
                         capture_output=True, text=True, check=True).stdout.strip()
    start = f"{day}T00:00:00Z"
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(time.strptime(day, "%Y-%m-%d")) + 7 * 86400))
    floor = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(["sqlite3", "-json", db, TIMELINE_SQL.format(start=start, end=end)], check=True, stdout=subprocess.DEVNULL)
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=1_000_000)
    parser.add_argument("--sets", type=int, default=2000)
    parser.add_argument("--regions", type=int, default=60)
    parser.add_argument("--audit-entries", type=int, default=10_000_000)
    parser.add_argument("--timeline-vms", type=int, default=100_000)
    parser.add_argument("--keep", help="work in this directory and keep it")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--only", choices=["turn-order", "timeline"],
                        help="run this benchmark alone (turn-order after generating and importing the fleet; timeline on its own 100,000-VM fleet)")
    args = parser.parse_args()

    if not args.skip_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "pitstop"], cwd=ROOT, check=True)
    pitstop = os.environ.get("PITSTOP_BINARY") or os.path.join(ROOT, ".build", "release", "pitstop")
    work = args.keep or tempfile.mkdtemp(prefix="pitstop-bench-")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, PITSTOP_NOW="2026-11-22T10:00:00Z", PITSTOP_ACTOR="bench")
    env.pop("PITSTOP_DB", None)

    if args.only == "timeline":
        print(f"generating {args.timeline_vms:,} VMs over {args.sets:,} sets in {args.regions} regions in {work}")
        subprocess.run([sys.executable, os.path.join(ROOT, "Benchmarks", "generate-fleet.py"), work,
                        "--vms", str(args.timeline_vms), "--sets", str(args.sets), "--regions", str(args.regions), "--windows"], check=True)
        timeline(pitstop, work, env)
        if not args.keep:
            shutil.rmtree(work)
        return

    print(f"generating {args.vms:,} VMs over {args.sets:,} sets in {args.regions} regions in {work}")
    subprocess.run([sys.executable, os.path.join(ROOT, "Benchmarks", "generate-fleet.py"), work,
                    "--vms", str(args.vms), "--sets", str(args.sets), "--regions", str(args.regions), "--windows"], check=True)
    csv = os.path.join(work, "vms.csv")

    if args.only == "turn-order":
        fleet_db = os.path.join(work, "fleet.sqlite")
        for f in (fleet_db, fleet_db + "-wal", fleet_db + "-shm"):
            if os.path.exists(f):
                os.remove(f)
        timed([pitstop, "import", os.path.join(work, "fleet.json"), "--db", fleet_db], env=env)
        timed([pitstop, "import", csv, "--db", fleet_db], env=env)
        turn_order(pitstop, work, fleet_db, env, args.vms)
        if not args.keep:
            shutil.rmtree(work)
        return

    # -- import ------------------------------------------------------------------------
    baseline_db = os.path.join(work, "baseline.sqlite")
    for f in (baseline_db, baseline_db + "-wal", baseline_db + "-shm"):
        if os.path.exists(f):
            os.remove(f)
    script = os.path.join(work, "baseline.sql")
    with open(script, "w") as f:
        f.write("PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n"
                "CREATE TABLE vms(name TEXT, region TEXT, subscription TEXT, availabilitySet TEXT, updateDomain TEXT, faultDomain TEXT);\n"
                "CREATE UNIQUE INDEX vms_name ON vms(name);\n.mode csv\n"
                f".import --skip 1 '{csv}' vms\n")
    with open(script) as stdin:
        base_s, _ = timed(["sqlite3", baseline_db], stdin=stdin)

    fleet_db = os.path.join(work, "fleet.sqlite")
    for f in (fleet_db, fleet_db + "-wal", fleet_db + "-shm"):
        if os.path.exists(f):
            os.remove(f)
    timed([pitstop, "import", os.path.join(work, "fleet.json"), "--db", fleet_db], env=env)
    import_s, import_mb = timed([pitstop, "import", csv, "--db", fleet_db], env=env)
    ratio = import_s / base_s
    print(f"\nimport   sqlite3 .import {base_s:6.2f} s   pitstop import {import_s:6.2f} s   "
          f"ratio {ratio:4.2f} (target <= 1.5: {verdict(ratio <= 1.5)})   peak {import_mb:5.0f} MB (target < 300: {verdict(import_mb < 300)})")

    vm = f"vm-{args.vms // 2:07d}"
    med, lo, hi = median_ms([pitstop, "vm", "show", vm, "--db", fleet_db], env)
    print(f"vm show  median {med:5.1f} ms (min {lo:.1f}, max {hi:.1f}) over 21 runs (target < 50 ms: {verdict(med < 50)})")

    # -- plan ---------------------------------------------------------------------------
    planned_db = os.path.join(work, "planned.sqlite")
    floor_db = os.path.join(work, "floor.sqlite")
    sqlite(fleet_db, "PRAGMA wal_checkpoint(TRUNCATE);")
    shutil.copy(fleet_db, planned_db)
    shutil.copy(fleet_db, floor_db)
    plan_s, plan_mb = timed([pitstop, "plan", "--kind", "reboot", "--db", planned_db], env=env)
    # The floor: the same rows into the same table, one plain INSERT in one transaction, with
    # the same page cache the plan uses.
    sqlite(floor_db, f"ATTACH '{planned_db}' AS p; INSERT INTO campaigns SELECT * FROM p.campaigns;")
    floor_script = os.path.join(work, "floor.sql")
    with open(floor_script, "w") as f:
        f.write(f"ATTACH '{planned_db}' AS p;\nPRAGMA cache_size=-163840;\nBEGIN;\n"
                "INSERT INTO events SELECT * FROM p.events ORDER BY seq;\nCOMMIT;\n")
    with open(floor_script) as stdin:
        floor_s, _ = timed(["sqlite3", floor_db], stdin=stdin)
    events = subprocess.run(["sqlite3", planned_db, "SELECT count(*) FROM events"], capture_output=True, text=True).stdout.strip()
    ratio = plan_s / floor_s
    print(f"plan     floor (INSERT of {events} events) {floor_s:6.2f} s   pitstop plan {plan_s:6.2f} s   "
          f"ratio {ratio:4.2f} (target <= 2: {verdict(ratio <= 2)})   peak {plan_mb:5.0f} MB (target < 1024: {verdict(plan_mb < 1024)})")

    med, lo, hi = median_ms([pitstop, "upcoming", "--vm", vm, "--within", "30d", "--db", planned_db], env)
    print(f"upcoming --vm  median {med:5.1f} ms (min {lo:.1f}, max {hi:.1f}) over 21 runs (target < 50 ms: {verdict(med < 50)})")

    check_s, check_mb = timed([pitstop, "check", "--db", planned_db], env=env)
    print(f"check    {check_s:6.2f} s over {events} events, peak {check_mb:5.0f} MB (target < 10 s: {verdict(check_s < 10)})")

    turn_order(pitstop, work, fleet_db, env, args.vms)

    # -- audit --------------------------------------------------------------------------
    audit_db = os.path.join(work, "audit.sqlite")
    shutil.copy(fleet_db, audit_db)
    n = args.audit_entries
    base = int(subprocess.run(["sqlite3", audit_db, "SELECT coalesce(max(seq), 0) FROM audit_log"], capture_output=True, text=True).stdout.strip() or 0)
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

    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
