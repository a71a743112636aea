#!/usr/bin/env python3
"""Checks Pitstop's timeline page in a real headless Chromium, driven over the DevTools
protocol on a pipe (--remote-debugging-pipe: JSON messages ending in NUL, the browser reading
fd 3 and writing fd 4). Python's standard library only; nothing is downloaded.

  timeline_check.py --url http://127.0.0.1:PORT --out DIR --pitstop BIN --db DB [--chromium PATH]
                    [--token TOKEN] [--big] [--variety]

Loads the page at 1366x768; checks that the bars drawn are the waves GET /api/v1/timeline
reports for the same range; starts a scheduled wave (POST /api/v1/waves/{id}/start, or the CLI
on the same database where the route is not served) and checks that its bar turns `started`
within two seconds without a reload; saves screenshots (week, hover, panel, day) in DIR.
With --variety it first completes one wave and approves another (through the CLI), so that
the pictures show more than one status. With --big it only loads the page, measures and saves one screenshot. Prints one JSON line of
results; exits 0 when every check passed, 1 otherwise.
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request


class Browser:
    """A headless Chromium and one page of it, over the DevTools pipe."""

    def __init__(self, chromium):
        self.profile = tempfile.mkdtemp(prefix="pitstop-chromium-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def wire():
            # The browser reads commands on fd 3 and writes answers on fd 4.
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.process = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,768",
             "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--force-color-profile=srgb", "--user-data-dir=" + self.profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            pass_fds=(3, 4), preexec_fn=wire)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0
        self.session = None
        self.events = []
        target = self.call("Target.createTarget", {"url": "about:blank"}, browser=True)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True}, browser=True)["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride", {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False})

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            if time.time() > deadline:
                raise TimeoutError("no answer from the browser")
            chunk = os.read(self.from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("the browser closed its pipe: " + self.process.stderr.read().decode(errors="replace")[-2000:])
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, browser=False, timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not browser:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def evaluate(self, expression, timeout=30):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, timeout=timeout)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=20, interval=0.05):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(interval)
        raise TimeoutError(f"waited {timeout} s for {expression}")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def mouse(self, kind, x, y):
        self.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left" if kind != "mouseMoved" else "none",
                                               "clickCount": 1 if kind != "mouseMoved" else 0})

    def close(self):
        try:
            self.call("Browser.close", browser=True, timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self.to_browser, self.from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


def http(url, token=None, method="GET", body=None):
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    if token:
        request.add_header("Authorization", "Bearer " + token)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, None


def click_bar(browser, wave, opened, attempts=3):
    """Clicks the wave's bar as a person does, until `opened` (a page expression) holds, and
    returns its value. A live redraw between press and release (the page redraws its bars when
    the database changes, e.g. when a token's use is recorded) loses a click, as it would a
    person's; they click again, and so does this."""
    for attempt in range(attempts):
        point = bar_center(browser, wave)
        browser.mouse("mouseMoved", point[0], point[1])
        browser.mouse("mousePressed", point[0], point[1])
        browser.mouse("mouseReleased", point[0], point[1])
        try:
            return browser.wait_for(opened, timeout=5 if attempt + 1 < attempts else 20)
        except TimeoutError:
            if attempt + 1 == attempts:
                raise


def bar_center(browser, wave):
    return browser.evaluate(f"""(() => {{
        const el = document.querySelector('[data-wave="{wave}"]');
        if (!el) return null;
        el.scrollIntoView({{block: 'center'}});
        const r = el.getBoundingClientRect();
        return [r.left + Math.min(r.width / 2, 30), r.top + r.height / 2];
    }})()""")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--pitstop", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--token")
    parser.add_argument("--big", action="store_true")
    parser.add_argument("--variety", action="store_true", help="complete one wave and approve another first")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    results = {"checks": [], "screenshots": []}
    failures = []

    def check(name, ok, detail=""):
        results["checks"].append({"check": name, "ok": bool(ok), "detail": detail})
        if not ok:
            failures.append(f"{name}: {detail}")

    browser = Browser(args.chromium)
    try:
        run(browser, args, check, results)
    except Exception as error:  # noqa: BLE001 — reported as a failed check
        check("the run", False, f"{type(error).__name__}: {error}")
    finally:
        browser.close()
        results["failures"] = failures
        print(json.dumps(results))
    sys.exit(1 if failures else 0)


def cli(args, *arguments):
    return subprocess.run([args.pitstop, *arguments, "--db", args.db], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PITSTOP_ACTOR="timeline-test"))


def run(browser, args, check, results):
        if args.variety:
            # Some history to look at: the first wave ran and completed, the third is approved.
            _, ahead = http(f"{args.url}/api/v1/timeline", args.token)
            reboots = [w for w in ahead["waves"] if w["kind"] == "reboot" and w["status"] == "scheduled"]
            if len(reboots) >= 3:
                for step in (["start", "--force", "--reason", "timeline test"], ["complete"]):
                    done = cli(args, "event", step[0], "--wave", reboots[0]["id"], *step[1:])
                    check(f"the CLI can {step[0]} a wave", done.returncode == 0, done.stdout + done.stderr)
                done = cli(args, "event", "approve", "--wave", reboots[2]["id"])
                check("the CLI can approve a wave", done.returncode == 0, done.stdout + done.stderr)
        if args.token:
            # The page keeps its token in localStorage: set it on the origin, then load.
            browser.call("Page.navigate", {"url": args.url + "/app.css"})
            browser.wait_for("document.readyState === 'complete'")
            browser.evaluate(f"localStorage.setItem('pitstop.token', {json.dumps(args.token)})")
        loading = time.time()
        browser.call("Page.navigate", {"url": args.url + "/"})
        browser.wait_for("document.body && document.body.dataset.ready === '1'", timeout=60)
        results["pageReadySeconds"] = round(time.time() - loading, 3)
        results["footer"] = browser.evaluate("document.getElementById('status').innerText")
        page_range = browser.evaluate("window.pitstopRange()")
        bars = browser.evaluate("window.pitstopBars()")
        query = urllib.parse.urlencode(page_range)
        asked = time.time()
        status, timeline = http(f"{args.url}/api/v1/timeline?{query}", args.token)
        results["apiSeconds"] = round(time.time() - asked, 3)
        check("timeline answers 200", status == 200, str(status))
        waves = timeline["waves"] if status == 200 else []
        results["waves"], results["bars"] = len(waves), len(bars)
        check("one bar per wave the API reports", len(bars) == len(waves) and {b["wave"] for b in bars} == {w["id"] for w in waves},
              f"{len(bars)} bars, {len(waves)} waves")
        check("some waves in view", len(waves) > 0, f"range {page_range}")
        results["screenshots"].append(browser.screenshot(os.path.join(args.out, "timeline-big-week.png" if args.big else "timeline-week.png")))
        if args.big:
            return

        # Hover a scheduled wave: the tooltip names its set, UD, VMs and times.
        scheduled = [w for w in waves if w["status"] == "scheduled" and not w["approved"]]
        check("a scheduled wave to start", scheduled, "none")
        if not scheduled:
            return
        hovered = scheduled[-1]
        point = bar_center(browser, hovered["id"])
        browser.mouse("mouseMoved", point[0], point[1])
        tip = browser.wait_for("!document.getElementById('tip').hidden && document.getElementById('tip').innerText")
        check("hovering shows the wave", "VM" in tip and "planned" in tip, tip)
        results["screenshots"].append(browser.screenshot(os.path.join(args.out, "timeline-hover.png")))

        # Start a wave from outside the page; its bar turns `started` without a reload.
        target = scheduled[0]
        browser.evaluate("window.__sameDocument = true")
        before = browser.evaluate(f"document.querySelector('[data-wave=\"{target['id']}\"]').dataset.status")
        check("the wave's bar is drawn as scheduled", before == "scheduled", before)
        started = time.time()
        code, body = http(f"{args.url}/api/v1/waves/{target['id']}/start", args.token, "POST", {"reason": "timeline test", "force": True})
        # Where the route is not served (404, 405) or this run has no token that may write
        # (401, 403), the CLI writes the same database.
        if code in (401, 403, 404, 405) and not (body or {}).get("message", "").startswith("unknown wave"):
            run = cli(args, "event", "start", "--wave", target["id"], "--force", "--reason", "timeline test")
            check("the CLI starts the wave", run.returncode == 0, run.stdout + run.stderr)
            results["startedWith"] = "cli"
        else:
            check("the API starts the wave", code == 200, f"{code} {body}")
            results["startedWith"] = "api"
        started = time.time()  # from the moment the database holds the start
        try:
            browser.wait_for(f"(document.querySelector('[data-wave=\"{target['id']}\"]') || {{}}).dataset?.status === 'started'",
                             timeout=2, interval=0.05)
            results["liveSeconds"] = round(time.time() - started, 3)
            check("the bar turns started within 2 s", True)
        except TimeoutError:
            now = browser.evaluate(f"(document.querySelector('[data-wave=\"{target['id']}\"]') || {{}}).dataset?.status")
            check("the bar turns started within 2 s", False, f"still {now}")
        check("without a reload", browser.evaluate("window.__sameDocument === true"), "the page was reloaded")
        results["screenshots"].append(browser.screenshot(os.path.join(args.out, "timeline-live-started.png")))

        # Click it: the panel shows its set, UD, VMs and times, with Approve and Cancel.
        panel = click_bar(browser, target["id"], "!document.getElementById('panel').hidden && document.querySelector('#panel table.vms tbody tr') && document.getElementById('panel').innerText")
        check("the panel shows the wave with its VMs", "update domain" in panel and "started" in panel, panel[:400])
        check("the panel offers approve and cancel", browser.evaluate("!!document.getElementById('do-approve') && !!document.getElementById('do-cancel')"))
        results["screenshots"].append(browser.screenshot(os.path.join(args.out, "timeline-panel.png")))

        # Approving a started wave is refused (or the route is missing): the panel shows why.
        browser.evaluate("document.getElementById('do-approve').disabled = false; document.getElementById('do-approve').click()")
        message = browser.wait_for("(() => { const m = document.getElementById('panel-msg'); return m && m.classList.contains('err') && m.innerText; })()", timeout=10)
        check("a refused action shows the server's message", len(message) > 0, message)
        browser.evaluate("document.getElementById('panel-close').click()")

        if args.token and len(scheduled) > 1:
            # An operator approves a scheduled wave from the page: its panel's Approve button
            # reaches the API with the page's token, and the bar turns approved without a reload.
            other = scheduled[1]
            click_bar(browser, other["id"], "!document.getElementById('panel').hidden && !!document.getElementById('do-approve') && !document.getElementById('do-approve').disabled")
            browser.evaluate("document.getElementById('do-approve').click()")
            _, detail = None, None
            deadline = time.time() + 5
            while time.time() < deadline:
                _, detail = http(f"{args.url}/api/v1/waves/{other['id']}", args.token)
                if detail and detail.get("wave", {}).get("approved"):
                    break
                time.sleep(0.1)
            check("Approve on the page approves the wave", bool(detail and detail.get("wave", {}).get("approved")), json.dumps(detail)[:300])
            browser.evaluate("document.getElementById('panel-close').click()")

        # The day view.
        browser.evaluate("document.getElementById('view-day').click()")
        browser.wait_for("document.getElementById('view-day').classList.contains('on') && Number(document.body.dataset.renders) > 0")
        time.sleep(0.5)
        day_range = browser.evaluate("window.pitstopRange()")
        _, day = http(f"{args.url}/api/v1/timeline?{urllib.parse.urlencode(day_range)}", args.token)
        check("the day view draws its waves", len(browser.evaluate("window.pitstopBars()")) == len(day["waves"]),
              f"{len(day['waves'])} waves")
        results["screenshots"].append(browser.screenshot(os.path.join(args.out, "timeline-day.png")))


if __name__ == "__main__":
    main()
