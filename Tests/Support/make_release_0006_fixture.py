#!/usr/bin/env python3
"""Builds the golden "database written by release 0006" fixture and its golden outputs.

What it makes (under Tests/PitstopCLITests/Fixtures/):
  release-0006.sql          `sqlite3 DB .dump` of a database that the CURRENT binary (migrations
                            0001-0006, one row per VM in table `events`) wrote through its real CLI
  release-0006/manifest.json the golden commands: arguments, the clock and actor they run with,
                            which golden file holds their stdout, and their exit status
  release-0006/NAME.json    stdout of a golden command run with --format json (compared as values)
  release-0006/NAME.txt     stdout of a golden command that has no JSON output (compared exactly)
  release-0006/checkpoint-kept.txt  what `audit checkpoint` printed: the head an operator keeps
                            outside the database (`audit verify --checkpoint` proves the log still
                            extends it)

Every row comes from real commands (`import`, `plan`, `notify --outbox`, `event approve|start|
complete|fail|cancel`, `campaign cancel`, `vm move`, `vm remove`, `audit keygen|checkpoint`) run
with a fixed PITSTOP_NOW, advanced between steps, and a fixed PITSTOP_ACTOR. The goldens are then
recorded against a FRESH database loaded from the dump, exactly as the Swift tests load it
(Tests/PitstopCLITests/ReleaseMigrationTests.swift, Tests/PitstopStoreTests/ReleaseMigrationStoreTests.swift),
and the script fails if a golden command changed the database (they must all be read-only, so
their order does not matter) or printed a path of this machine.

    python3 Tests/Support/make_release_0006_fixture.py --pitstop .build/debug/pitstop

NEVER regenerate this fixture with a release newer than 0006 (a binary whose Migrations/ go past
0006_api_tokens.sql): it stands for the databases that release 0006 wrote and that every later
release must open with nothing lost. The script refuses a binary whose database records any
migration other than 0001-0006. Regenerating it with a newer binary would make the tests compare
the new release with itself and prove nothing.
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "PitstopCLITests" / "Fixtures"
DUMP = FIXTURES / "release-0006.sql"
GOLDEN = FIXTURES / "release-0006"
ACTOR = "release-0006-fixture"
OUTBOX = Path("/tmp/pitstop-release-0006-outbox")
RELEASE_MIGRATIONS = [
    "0001_inventory.sql", "0002_scheduler.sql", "0003_audit_indexes.sql",
    "0004_scheduled_events.sql", "0005_audit_keys.sql", "0006_api_tokens.sql",
]

# The fleet: eastus -> westus paired (the pair), northeurope alone (the third region). Sets with
# several update and fault domains, single-instance VMs in every region, two subscriptions with
# different notice zones. UD and FD are given, not placed, so that the fixture does not depend
# on round-robin placement.
FLEET = {
    "regions": [{"name": "eastus", "displayName": "East US"}, {"name": "westus", "displayName": "West US"},
                {"name": "northeurope", "displayName": "North Europe"}],
    "regionPairs": [{"region": "eastus", "pairedWith": "westus"}],
    "subscriptions": [
        {"id": "contoso", "admins": ["ops@contoso.example"], "coAdmins": ["oncall@contoso.example"],
         "noticeTimeZone": "America/New_York"},
        {"id": "fabrikam", "admins": ["it@fabrikam.example"], "coAdmins": [], "noticeTimeZone": "Europe/Dublin"},
    ],
    "availabilitySets": [
        {"name": "web", "region": "eastus", "subscription": "contoso", "faultDomains": 3, "updateDomains": 3},
        {"name": "api", "region": "westus", "subscription": "contoso", "faultDomains": 2, "updateDomains": 2},
        {"name": "db", "region": "northeurope", "subscription": "fabrikam", "faultDomains": 2, "updateDomains": 3},
    ],
    "vms": [
        {"name": "web-0", "availabilitySet": "web", "updateDomain": 0, "faultDomain": 0, "ipAddress": "10.1.0.4"},
        {"name": "web-1", "availabilitySet": "web", "updateDomain": 0, "faultDomain": 1, "ipAddress": "10.1.0.5"},
        {"name": "web-2", "availabilitySet": "web", "updateDomain": 0, "faultDomain": 2},
        {"name": "web-3", "availabilitySet": "web", "updateDomain": 1, "faultDomain": 0},
        {"name": "web-4", "availabilitySet": "web", "updateDomain": 1, "faultDomain": 2},
        {"name": "web-5", "availabilitySet": "web", "updateDomain": 2, "faultDomain": 1},
        {"name": "jump-e", "region": "eastus", "subscription": "contoso", "ipAddress": "10.1.9.9"},
        {"name": "api-0", "availabilitySet": "api", "updateDomain": 0, "faultDomain": 0},
        {"name": "api-1", "availabilitySet": "api", "updateDomain": 0, "faultDomain": 1},
        {"name": "api-2", "availabilitySet": "api", "updateDomain": 1, "faultDomain": 1},
        {"name": "api-3", "availabilitySet": "api", "updateDomain": 1, "faultDomain": 0},
        {"name": "bastion-w", "region": "westus", "subscription": "contoso"},
        {"name": "db-0", "availabilitySet": "db", "updateDomain": 0, "faultDomain": 0, "ipAddress": "10.3.0.4"},
        {"name": "db-1", "availabilitySet": "db", "updateDomain": 0, "faultDomain": 1},
        {"name": "db-2", "availabilitySet": "db", "updateDomain": 1, "faultDomain": 1},
        {"name": "db-3", "availabilitySet": "db", "updateDomain": 2, "faultDomain": 0},
        {"name": "jump-n", "region": "northeurope", "subscription": "fabrikam"},
    ],
}


def iso(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


class Pitstop:
    """Runs the binary like the Swift CLI tests do: a scratch HOME, UTC, no inherited database settings."""

    def __init__(self, binary, directory):
        self.binary = str(Path(binary).resolve())
        self.directory = directory
        self.log = []

    def env(self, now):
        env = {"HOME": str(self.directory / "home"), "PITSTOP_NOW": now, "PITSTOP_ACTOR": ACTOR,
               "LANG": "C.UTF-8", "TZ": "UTC"}
        if "PATH" in os.environ:
            env["PATH"] = os.environ["PATH"]
        return env

    def run(self, db, args, now, expect=0):
        proc = subprocess.run([self.binary, *args, "--db", str(db)], cwd=self.directory, env=self.env(now),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True)
        self.log.append((now, args, proc.returncode))
        if expect is not None and proc.returncode != expect:
            sys.exit(f"pitstop {' '.join(args)} (PITSTOP_NOW={now}) exited {proc.returncode}, expected {expect}\n"
                     f"--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}")
        return proc


def build(pitstop, db, scratch):
    """Records the fleet and its maintenance history through the CLI. Returns the goldens' clock
    and the ids the goldens name."""
    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    fleet = scratch / "fleet.json"
    fleet.write_text(json.dumps(FLEET, indent=1))
    # Paths are given relative to the scratch directory (the commands' working directory): the
    # audit log records them, and the fixture must not name a temporary directory.
    pitstop.run(db, ["import", "fleet.json"], iso(t0))
    applied = [r[0] for r in sqlite3.connect(db).execute("SELECT name FROM pitstop_migrations ORDER BY name")]
    if applied != RELEASE_MIGRATIONS:
        sys.exit(f"this binary applies {applied}, not release 0006's {RELEASE_MIGRATIONS}: never regenerate the fixture with a newer release")

    # A signing key for audit checkpoints (the private key stays in the scratch directory).
    pitstop.run(db, ["audit", "keygen", "audit-key"], iso(t0 + timedelta(minutes=1)))

    # 1. A freeze of northeurope, planned now (a freeze needs 15 minutes' notice), carried out:
    #    its waves started and completed, one event cancelled alone.
    t_freeze = t0 + timedelta(minutes=5)
    freeze = json.loads(pitstop.run(db, ["plan", "--kind", "freeze", "--regions", "northeurope",
                                         "--description", "live migration of hosts", "--format", "json"], iso(t_freeze)).stdout)
    freeze_id = freeze["campaign"]["id"]
    freeze_events = freeze["events"]
    freeze_waves = waves_of(freeze_events)
    cancelled_alone = next(e for e in freeze_events if e["vm"] == "jump-n")
    pitstop.run(db, ["event", "cancel", cancelled_alone["id"], "--reason", "owner asked to skip"], iso(t_freeze + timedelta(minutes=1)))
    for wave in freeze_waves:
        if wave["vms"] == ["jump-n"]:
            continue
        start = parse(wave["start"])
        pitstop.run(db, ["event", "start", "--wave", wave["id"]], iso(start))
        pitstop.run(db, ["event", "complete", "--wave", wave["id"]], iso(start + timedelta(seconds=25)))

    # 2. The reboot campaign of the whole fleet, planned at t1: it starts 7 days later. Its
    #    notices (one per subscription) are written to an outbox at once, so they are marked sent.
    t1 = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
    reboot = json.loads(pitstop.run(db, ["plan", "--kind", "reboot", "--description", "host OS update 2026-11",
                                         "--format", "json"], iso(t1)).stdout)
    reboot_id = reboot["campaign"]["id"]
    r_events = reboot["events"]
    #    `notify` records the outbox's absolute path in the audit log, so the outbox is a fixed
    #    directory, the same on every machine, not one under the scratch directory.
    shutil.rmtree(OUTBOX, ignore_errors=True)
    OUTBOX.mkdir(parents=True)
    try:
        pitstop.run(db, ["notify", "--outbox", str(OUTBOX), "--from", "pitstop@ops.example"], iso(t1))
    finally:
        shutil.rmtree(OUTBOX, ignore_errors=True)

    # 3. A second reboot campaign, planned and then cancelled before its notices went out:
    #    its events are cancelled and its notices withdrawn, never sent.
    t_cancel = t1 + timedelta(hours=1)
    doomed = json.loads(pitstop.run(db, ["plan", "--kind", "reboot", "--regions", "eastus,westus", "--not-before", "2026-11-20T00:00:00Z",
                                         "--description", "firmware (superseded)", "--format", "json"], iso(t_cancel)).stdout)
    doomed_id = doomed["campaign"]["id"]
    pitstop.run(db, ["campaign", "cancel", doomed_id], iso(t_cancel + timedelta(minutes=30)))

    def wave(region, set_name, ud):
        ws = [w for w in waves_of(r_events) if w["region"] == region and w["set"] == set_name and w["ud"] == ud]
        assert len(ws) == 1, (region, set_name, ud, ws)
        return ws[0]

    def event(vm):
        return next(e for e in r_events if e["vm"] == vm)

    web0, web1, web2 = wave("eastus", "web", 0), wave("eastus", "web", 1), wave("eastus", "web", 2)
    api0 = wave("westus", "api", 0)
    db0 = wave("northeurope", "db", 0)
    assert web0["vms"] == ["web-0", "web-1", "web-2"], web0
    assert api0["vms"] == ["api-0", "api-1"], api0

    # 4. Two days later the owners approve: the whole of wave web UD 0, and api-0 alone in its
    #    wave (api-1 stays unapproved). Then api-3 is moved to UD 0 after planning: its event
    #    stays in the UD 1 wave, which `check` reports.
    t2 = t1 + timedelta(days=2)
    pitstop.run(db, ["event", "approve", "--wave", web0["id"]], iso(t2))
    pitstop.run(db, ["event", "approve", event("api-0")["id"]], iso(t2 + timedelta(minutes=10)))
    pitstop.run(db, ["vm", "move", "api-3", "--ud", "0"], iso(t2 + timedelta(minutes=20)))

    # 5. Execution. Wave web UD 0 starts on time, with a reason (a start's reason is stored on
    #    its events; a failure's goes to the audit log); web-1 fails alone with a reason, the
    #    others complete (a wave operation skips the member that already moved on).
    s = parse(web0["start"])
    pitstop.run(db, ["event", "start", "--wave", web0["id"], "--reason", "change CHG-1001"], iso(s))
    pitstop.run(db, ["event", "fail", event("web-1")["id"], "--reason", "did not come back after reboot: kernel panic"],
                iso(s + timedelta(minutes=9)))
    pitstop.run(db, ["event", "complete", "--wave", web0["id"]], iso(s + timedelta(minutes=14)))

    #    Wave web UD 1 starts 2 minutes late and completes as a whole.
    s = parse(web1["start"]) + timedelta(minutes=2)
    pitstop.run(db, ["event", "start", "--wave", web1["id"]], iso(s))
    pitstop.run(db, ["event", "complete", "--wave", web1["id"]], iso(s + timedelta(minutes=10)))

    #    jump-e (single-instance) is started while web UD 2 is still pending: the guard refuses
    #    (exit 1), so it is forced with a reason, and completes.
    forced = event("jump-e")
    s = parse(web1["start"]) + timedelta(minutes=20)
    pitstop.run(db, ["event", "start", forced["id"]], iso(s), expect=1)
    pitstop.run(db, ["event", "start", forced["id"], "--force", "--reason", "security hotfix CVE-2026-0001"], iso(s))
    pitstop.run(db, ["event", "complete", forced["id"]], iso(s + timedelta(minutes=11)))

    #    Wave web UD 2, approved by its owner, starts 2 minutes early and completes.
    s = parse(web2["start"])
    pitstop.run(db, ["event", "approve", "--wave", web2["id"]], iso(s - timedelta(minutes=30)))
    pitstop.run(db, ["event", "start", "--wave", web2["id"]], iso(s - timedelta(minutes=2)))
    pitstop.run(db, ["event", "complete", "--wave", web2["id"]], iso(s + timedelta(minutes=9)))

    #    northeurope's first wave started and is still running when the goldens are taken.
    s = parse(db0["start"]) + timedelta(minutes=1)
    pitstop.run(db, ["event", "start", "--wave", db0["id"]], iso(s))

    # 6. web-2's events are all finished (completed, or cancelled with its campaign): it leaves
    #    the fleet, and its history must stay.
    last = parse(web2["start"]) + timedelta(minutes=15)
    pitstop.run(db, ["vm", "remove", "web-2"], iso(last))

    # 7. A signed checkpoint of the log, kept outside the database, then more entries after it.
    checkpoint = pitstop.run(db, ["audit", "checkpoint", "--audit-key", "audit-key"],
                             iso(last + timedelta(minutes=5))).stdout
    pitstop.run(db, ["event", "approve", event("bastion-w")["id"]], iso(last + timedelta(minutes=10)))

    # 8. A reboot of westus planned next, whose notice nobody has sent yet: a queued notice of a
    #    live campaign, beside the sent and the withdrawn ones.
    later = json.loads(pitstop.run(db, ["plan", "--kind", "reboot", "--regions", "westus", "--description", "hypervisor patch",
                                        "--format", "json"], iso(last + timedelta(minutes=11))).stdout)

    # The goldens' clock: after all of it, before westus's waves (still scheduled) start, so
    # that they are still ahead for `upcoming`.
    now = iso(last + timedelta(minutes=12))
    assert parse(now) < parse(api0["start"]), (now, api0)
    return {
        "now": now, "checkpoint": checkpoint,
        "campaigns": {"freeze": freeze_id, "reboot": reboot_id, "cancelled": doomed_id, "queuedNotice": later["campaign"]["id"]},
        "events": {"approved": event("web-0")["id"], "approvedAlone": event("api-0")["id"], "failed": event("web-1")["id"],
                   "forced": forced["id"], "removedVM": event("web-2")["id"], "running": event("db-0")["id"],
                   "moved": event("api-3")["id"], "cancelledAlone": cancelled_alone["id"]},
        "waves": {"failedAndCompleted": web0["id"], "running": db0["id"]},
        "freeze": freeze, "reboot": reboot,
    }


def waves_of(events):
    """The waves of a plan's events, in planned order: id, region, set, UD, start, VMs."""
    out = {}
    for e in events:
        w = out.setdefault(e["wave"], {"id": e["wave"], "region": e["region"], "set": e["availabilitySet"],
                                       "ud": e["updateDomain"], "start": e["start"], "vms": []})
        w["vms"].append(e["vm"])
        w["start"] = min(w["start"], e["start"])
    return sorted(out.values(), key=lambda w: (w["start"], w["id"]))


def golden_commands(ids):
    """(name, arguments, json?) of every golden. They only read the database."""
    c, e, w = ids["campaigns"], ids["events"], ids["waves"]
    first = min(e0["start"] for e0 in ids["freeze"]["events"])
    commands = [
        ("check", ["check", "--format", "json"], True),
        ("check-table", ["check"], False),
        ("audit-verify", ["audit", "verify", "--format", "json"], True),
        ("audit-verify-table", ["audit", "verify"], False),
        ("audit-verify-kept-checkpoint", ["audit", "verify", "--checkpoint", "{fixtures}/checkpoint-kept.txt", "--format", "json"], True),
        ("campaign-list", ["campaign", "list", "--format", "json"], True),
        ("campaign-list-table", ["campaign", "list"], False),
        ("upcoming", ["upcoming", "--within", "60d", "--format", "json"], True),
        ("upcoming-vm-api-0", ["upcoming", "--vm", "api-0", "--within", "60d", "--format", "json"], True),
        ("upcoming-vm-api-3", ["upcoming", "--vm", "api-3", "--within", "60d", "--format", "json"], True),
        ("upcoming-table", ["upcoming", "--within", "60d"], False),
        ("report", ["report", "--since", first, "--until", "2027-01-01T00:00:00Z", "--format", "json"], True),
        ("report-table", ["report", "--since", first, "--until", "2027-01-01T00:00:00Z"], False),
        ("audit-vm-web-1", ["audit", "--vm", "web-1", "--format", "json"], True),
        ("audit-vm-web-2", ["audit", "--vm", "web-2", "--format", "json"], True),
        ("audit-campaign-reboot", ["audit", "--campaign", c["reboot"], "--format", "json"], True),
        ("audit-all", ["audit", "--format", "json"], True),
        ("notices", ["notices", "--format", "json"], True),
        ("notices-table", ["notices"], False),
        ("inventory", ["inventory", "--format", "json"], True),
        ("export", ["export"], True),
    ]
    for key, campaign in c.items():
        commands.append((f"campaign-show-{key}", ["campaign", "show", campaign, "--format", "json"], True))
        commands.append((f"campaign-show-{key}-table", ["campaign", "show", campaign], False))
    for key, event in e.items():
        commands.append((f"event-show-{key}", ["event", "show", event, "--format", "json"], True))
        commands.append((f"event-show-{key}-table", ["event", "show", event], False))
    for key, wave in w.items():
        commands.append((f"audit-wave-{key}", ["audit", "--wave", wave, "--format", "json"], True))
    return commands


def dump(db):
    return subprocess.run(["sqlite3", str(db), ".dump"], check=True, capture_output=True, text=True).stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pitstop", required=True, help="the release-0006 pitstop binary (.build/debug/pitstop)")
    args = parser.parse_args()
    if shutil.which("sqlite3") is None:
        sys.exit("needs the sqlite3 shell (apt-get install sqlite3) for .dump")

    scratch = Path(tempfile.mkdtemp(prefix="pitstop-release-0006-"))
    try:
        (scratch / "home").mkdir()
        pitstop = Pitstop(args.pitstop, scratch)
        db = scratch / "written-by-0006.sqlite"
        ids = build(pitstop, db, scratch)
        # Fold the WAL into the file, so the dump is the committed state and nothing else.
        con = sqlite3.connect(db)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        text = dump(db)

        if GOLDEN.exists():
            shutil.rmtree(GOLDEN)
        GOLDEN.mkdir(parents=True)
        DUMP.write_text(text)
        (GOLDEN / "checkpoint-kept.txt").write_text(ids["checkpoint"])

        # The goldens, taken from a fresh file loaded from the dump, as the tests load it.
        fresh = scratch / "loaded-from-dump.sqlite"
        subprocess.run(["sqlite3", str(fresh)], input=text, check=True, capture_output=True, text=True)
        manifest = {
            "about": "Golden outputs of release 0006 on release-0006.sql; written by Tests/Support/make_release_0006_fixture.py. Never regenerate with a newer release.",
            "now": ids["now"], "actor": ACTOR,
            "campaigns": ids["campaigns"], "events": ids["events"], "waves": ids["waves"],
            "commands": [],
        }
        for name, arguments, is_json in golden_commands(ids):
            real = [a.replace("{fixtures}", str(GOLDEN)) for a in arguments]
            proc = pitstop.run(fresh, real, ids["now"], expect=None)
            if proc.returncode not in (0, 1):
                sys.exit(f"golden {name}: pitstop {' '.join(real)} exited {proc.returncode}\n{proc.stderr}")
            for where in (str(scratch), str(GOLDEN), str(ROOT)):
                if where in proc.stdout:
                    sys.exit(f"golden {name}: its output names a path of this machine ({where}); leave it out or normalise it")
            file = f"{name}.json" if is_json else f"{name}.txt"
            if is_json:
                json.loads(proc.stdout)  # must parse
            (GOLDEN / file).write_text(proc.stdout)
            manifest["commands"].append({"name": name, "arguments": arguments, "stdout": file, "status": proc.returncode})
        con = sqlite3.connect(fresh)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        if dump(fresh) != text:
            sys.exit("a golden command changed the database: goldens must only read")
        (GOLDEN / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        print(f"wrote {DUMP.relative_to(ROOT)} ({len(text)} bytes) and {len(manifest['commands'])} goldens in {GOLDEN.relative_to(ROOT)}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
