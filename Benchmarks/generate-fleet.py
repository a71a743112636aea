#!/usr/bin/env python3
"""Writes a synthetic fleet for the benchmarks: an inventory JSON (regions, subscriptions,
sets) and a CSV of VMs, deterministic for a given size.

With --windows it also writes windows.json: every region gets a weekday-night window and a
weekend window in its own zone (zones taken in turn from a list that spans the globe), so that
the turn order of linked regions matters.

usage: generate-fleet.py OUTDIR [--vms 1000000] [--sets 2000] [--regions 60] [--windows]
"""
import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("outdir")
parser.add_argument("--vms", type=int, default=1_000_000)
parser.add_argument("--sets", type=int, default=2000)
parser.add_argument("--regions", type=int, default=60)
parser.add_argument("--windows", action="store_true")
args = parser.parse_args()
os.makedirs(args.outdir, exist_ok=True)

regions = [f"region-{i:02d}" for i in range(args.regions)]
# Pairs: region 2k -> 2k+1, plus a few asymmetric extra links, like the published table.
pairs = [{"region": regions[i], "pairedWith": regions[i + 1]} for i in range(0, args.regions - 1, 2)]
pairs += [{"region": regions[i], "pairedWith": regions[(i + 3) % args.regions]} for i in range(0, args.regions, 10)]
subs = [{"id": f"sub-{i:02d}", "admins": [f"ops{i}@example.com"], "coAdmins": []} for i in range(20)]
sets = [{"name": f"set-{s:04d}", "region": regions[s % args.regions], "subscription": subs[s % len(subs)]["id"],
         "faultDomains": 1 + s % 3, "updateDomains": 5 + s % 16} for s in range(args.sets)]
with open(os.path.join(args.outdir, "fleet.json"), "w") as f:
    json.dump({"regions": [{"name": r} for r in regions], "regionPairs": pairs,
               "subscriptions": subs, "availabilitySets": sets}, f)

# 95% of VMs in sets (placed round-robin: empty UD/FD), 5% single-instance.
with open(os.path.join(args.outdir, "vms.csv"), "w") as f:
    f.write("name,region,subscription,availabilitySet,updateDomain,faultDomain\n")
    for v in range(args.vms):
        if v % 20 == 19:
            r = regions[v % args.regions]
            f.write(f"vm-{v:07d},{r},sub-{v % 20:02d},,,\n")
        else:
            s = sets[v % args.sets]
            f.write(f"vm-{v:07d},{s['region']},{s['subscription']},{s['name']},,\n")

if args.windows:
    zones = ["America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Asia/Tokyo",
             "Australia/Sydney", "America/Sao_Paulo", "Asia/Singapore"]
    windows = []
    for i, r in enumerate(regions):
        zone = zones[i % len(zones)]
        # Nights start at different hours so that linked regions' windows do not line up.
        windows.append({"name": f"{r}-weeknights", "region": r, "start": f"2026-11-02T{20 + i % 4:02d}:00:00",
                        "timeZone": zone, "duration": "PT6H", "recurEvery": "Week Monday,Tuesday,Wednesday,Thursday"})
        windows.append({"name": f"{r}-weekend", "region": r, "start": "2026-11-07T06:00:00",
                        "timeZone": zone, "duration": "PT16H", "recurEvery": "Week Saturday,Sunday"})
    with open(os.path.join(args.outdir, "windows.json"), "w") as f:
        json.dump({"maintenanceWindows": windows}, f)
