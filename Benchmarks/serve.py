#!/usr/bin/env python3
"""The scheduled-events endpoint under load, against nginx serving the same bytes as a file.

On a database of 1,000,000 VMs (2,000 sets, 60 regions) with a freeze campaign planned, so that
the polled VM's document holds events, wrk (Debian's) hammers
`GET /metadata/scheduledevents?api-version=2020-07-01` of `pitstop serve --no-throttle` from
127.0.0.1, the address of that VM. In the same run nginx (Debian's) serves a static file holding
the same document on another port, and wrk measures it the same way. Then a second round while
`pitstop plan` writes another campaign into the same database.

Targets (issue 8): requests per second at least half nginx's, p99 latency under 10 ms, the
same figures while the CLI writes a plan, and the server's resident memory under 300 MB, also
once every VM of the planned region (about 16,700) has polled from an address of its own.

usage: Benchmarks/serve.py [--vms N] [--seconds S] [--connections C] [--skip-build]
Needs wrk and nginx (apt-get install wrk nginx-light). Run it on a quiet machine.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = "/metadata/scheduledevents?api-version=2020-07-01"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def wait_until_up(url, headers, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2) as r:
                return r.read()
        except Exception:
            time.sleep(0.2)
    sys.exit(f"nothing answered at {url} within {seconds} s")


def wrk(url, seconds, connections, headers=()):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(cmd + [url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, float(p99.group(1)) * scale, int(non2xx.group(1)) if non2xx else 0


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--skip-build", action="store_true")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            sys.exit(f"{tool} is missing: apt-get install wrk nginx-light")
    if not args.skip_build:
        run(["swift", "build", "-c", "release", "--product", "pitstop"], cwd=ROOT)
    pitstop = os.path.join(ROOT, ".build", "release", "pitstop")
    work = tempfile.mkdtemp(prefix="pitstop-serve-bench-")
    db = os.path.join(work, "fleet.sqlite")
    env = dict(os.environ, PITSTOP_ACTOR="bench")
    env.pop("PITSTOP_NOW", None)
    server = nginx = None
    try:
        print(f"fleet of {args.vms:,} VMs in {work}", flush=True)
        run([sys.executable, os.path.join(ROOT, "Benchmarks", "generate-fleet.py"), work, "--vms", str(args.vms)])
        run([pitstop, "import", os.path.join(work, "fleet.json"), "--db", db], env=env, stdout=subprocess.DEVNULL)
        run([pitstop, "import", os.path.join(work, "vms.csv"), "--db", db], env=env, stdout=subprocess.DEVNULL)
        # A freeze campaign starts 15 minutes from now at the earliest, so its first waves are
        # in their VMs' documents at once. The polled VM gets 127.0.0.1, wrk's own address.
        run([pitstop, "plan", "--kind", "freeze", "--regions", "region-00", "--db", db], env=env, stdout=subprocess.DEVNULL)
        upcoming = json.loads(subprocess.run([pitstop, "upcoming", "--region", "region-00", "--within", "20m", "--format", "json", "--db", db],
                                             env=env, check=True, capture_output=True, text=True).stdout)["events"]
        vm = next(e for e in upcoming if e["availabilitySet"])
        # Every other VM of region-00 gets an address of its own (127.1.x.y), for the last round.
        pollers = []
        with open(os.path.join(work, "address.csv"), "w") as f:
            f.write("name,region,subscription,availabilitySet,updateDomain,faultDomain,ipAddress\n")
            set_info = json.loads(subprocess.run([pitstop, "vm", "show", vm["vm"], "--format", "json", "--db", db],
                                                 env=env, check=True, capture_output=True, text=True).stdout)
            f.write(f"{vm['vm']},{set_info['region']},{set_info['subscription']},{set_info['availabilitySet']},"
                    f"{set_info['updateDomain']},{set_info['faultDomain']},127.0.0.1\n")
            with open(os.path.join(work, "vms.csv")) as rows:
                next(rows)
                for row in rows:
                    name, region, subscription, set_name, _, _ = row.rstrip("\n").split(",")
                    if region == "region-00" and name != vm["vm"]:
                        address = f"127.1.{len(pollers) // 250}.{len(pollers) % 250 + 1}"
                        pollers.append(address)
                        f.write(f"{name},{region},{subscription},{set_name},,,{address}\n")
        run([pitstop, "import", os.path.join(work, "address.csv"), "--db", db], env=env, stdout=subprocess.DEVNULL)

        port = free_port()
        server = subprocess.Popen([pitstop, "serve", "--db", db, "--port", str(port), "--no-throttle"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "serve.log"), "w"))
        url = f"http://127.0.0.1:{port}{PATH}"
        wait_until_up(url, {"Metadata": "true"})
        # A plan starts at a whole minute: its first waves show up to a minute after planning.
        deadline = time.time() + 90
        while True:
            document = wait_until_up(url, {"Metadata": "true"})
            events = len(json.loads(document)["Events"])
            if events or time.time() > deadline:
                break
            time.sleep(1)
        print(f"polled VM {vm['vm']}: a document of {len(document)} bytes with {events} event(s)", flush=True)

        # nginx serves the same bytes as a static file, with its usual worker per core, and logs
        # each request to a file as pitstop does (one line a request, to its stderr file).
        root = os.path.join(work, "www")
        os.makedirs(os.path.join(root, "metadata"))
        # nginx's workers drop root for an unprivileged user, who must be able to read the file.
        os.chmod(work, 0o755)
        with open(os.path.join(root, "metadata", "scheduledevents"), "wb") as f:
            f.write(document)
        nginx_port = free_port()
        with open(os.path.join(work, "nginx.conf"), "w") as f:
            f.write(f"""worker_processes auto; daemon off; error_log {work}/nginx-error.log; pid {work}/nginx.pid;
events {{ worker_connections 1024; }}
http {{ access_log {work}/nginx-access.log; default_type application/json;
  client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp; fastcgi_temp_path {work}/tmp;
  uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
  server {{ listen 127.0.0.1:{nginx_port}; root {root}; location / {{ try_files $uri =404; }} }} }}
""")
        os.makedirs(os.path.join(work, "tmp"))
        nginx = subprocess.Popen(["nginx", "-c", os.path.join(work, "nginx.conf"), "-p", work],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        nginx_url = f"http://127.0.0.1:{nginx_port}{PATH}"
        wait_until_up(nginx_url, {})

        def round_(label):
            base_rps, base_p99, _ = wrk(nginx_url, args.seconds, args.connections)
            rps, p99, errors = wrk(url, args.seconds, args.connections, ["Metadata: true"])
            ratio = rps / base_rps
            print(f"{label:<22} nginx {base_rps:>9,.0f} req/s p99 {base_p99:6.2f} ms   pitstop {rps:>9,.0f} req/s p99 {p99:6.2f} ms"
                  f"   ratio {ratio:.2f} (target >= 0.5: {'ok' if ratio >= 0.5 else 'MISSED'})"
                  f"   p99 (target < 10 ms: {'ok' if p99 < 10 else 'MISSED'})" + (f"   {errors} non-2xx!" if errors else ""), flush=True)

        round_("idle database")
        # The same while the CLI writes a reboot plan over the other regions.
        planner = subprocess.Popen([pitstop, "plan", "--kind", "reboot", "--db", db], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1)
        round_("while `plan` writes")
        planner.wait()
        rss = peak_rss_mb(server.pid)
        print(f"server peak resident memory {rss:.0f} MB (target < 300: {'ok' if rss < 300 else 'MISSED'})", flush=True)

        # Then the fleet's side: every VM of the region polls, each from its own address, as a
        # region's VMs do every second. The server keeps each polling VM's document.
        def poll_all(first):
            for address in pollers[first::8]:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(address, 0))
                c.request("GET", PATH, headers={"Metadata": "true"})
                answer = c.getresponse()
                answer.read()
                c.close()
                if answer.status != 200:
                    failures.append(f"{address}: {answer.status}")
        failures = []
        started = time.time()
        threads = [threading.Thread(target=poll_all, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rss = peak_rss_mb(server.pid)
        print(f"{len(pollers):,} VMs polling from their own addresses ({time.time() - started:.0f} s): server peak resident memory "
              f"{rss:.0f} MB (target < 300: {'ok' if rss < 300 else 'MISSED'})" + (f"   {len(failures)} not 200: {failures[:3]}" if failures else ""))
    finally:
        for p in (server, nginx):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
