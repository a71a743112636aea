#!/usr/bin/env python3
"""`pitstop notify` to an outbox: 10,000 notices by default, and a tenth as many, each run
timed whole and per notice, so that a per-notice cost that grows with the count (a run that
re-reads the campaign's notices after every message was quadratic: 1,000 notices 11.8 s,
2,000 notices 118 s) shows as a ratio well above 1.

Each notice is one .eml file written, flushed and renamed into place, then one commit that
marks it sent and appends its audit entry. A fleet of N subscriptions, one standalone VM
each, planned as one reboot campaign, queues N notices.

usage: Benchmarks/notify.py [--notices N] [--keep DIR] [--skip-build] [--debug]
Run it on a quiet machine: every figure is wall-clock time.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, env):
    result = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(cmd)}\n{result.stderr.decode(errors='replace')}")


def notify(pitstop, work, count, env):
    """Seconds for `notify --outbox` over `count` freshly queued notices."""
    directory = os.path.join(work, f"n{count}")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    db = os.path.join(directory, "pitstop.sqlite")
    fleet = {
        "regions": [{"name": "eastus"}],
        "subscriptions": [{"id": f"s{i:05d}", "admins": [f"admin-{i:05d}@example.com"], "coAdmins": []} for i in range(count)],
        "vms": [{"name": f"vm-{i:05d}", "region": "eastus", "subscription": f"s{i:05d}"} for i in range(count)],
    }
    with open(os.path.join(directory, "fleet.json"), "w") as f:
        json.dump(fleet, f)
    run([pitstop, "import", os.path.join(directory, "fleet.json"), "--db", db], env)
    run([pitstop, "plan", "--kind", "reboot", "--db", db], env)
    start = time.perf_counter()
    run([pitstop, "notify", "--outbox", os.path.join(directory, "outbox"), "--db", db], env)
    seconds = time.perf_counter() - start
    sent = len([n for n in os.listdir(os.path.join(directory, "outbox")) if n.endswith(".eml")])
    if sent != count:
        sys.exit(f"{sent} .eml files for {count} notices")
    return seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=10_000)
    parser.add_argument("--keep", help="work in this directory and keep it")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--debug", action="store_true", help="use the debug build (figures are then not comparable)")
    args = parser.parse_args()

    configuration = "debug" if args.debug else "release"
    if not args.skip_build:
        subprocess.run(["swift", "build", "-c", configuration, "--product", "pitstop"], cwd=ROOT, check=True)
    pitstop = os.path.join(ROOT, ".build", configuration, "pitstop")
    work = args.keep or tempfile.mkdtemp(prefix="pitstop-notify-bench-")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, PITSTOP_NOW="2026-11-22T10:00:00Z", PITSTOP_ACTOR="bench")
    env.pop("PITSTOP_DB", None)

    small = max(1, args.notices // 10)
    figures = []
    for count in (small, args.notices):
        seconds = notify(pitstop, work, count, env)
        figures.append((count, seconds))
        print(f"notify --outbox  {count:7,} notices  {seconds:7.2f} s  {seconds / count * 1000:6.2f} ms per notice")
    (n1, s1), (n2, s2) = figures
    growth = (s2 / n2) / (s1 / n1)
    print(f"per-notice cost at {n2:,} against {n1:,}: {growth:4.2f}x (linear: about 1; target <= 1.5: {'ok' if growth <= 1.5 else 'MISSED'})")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
