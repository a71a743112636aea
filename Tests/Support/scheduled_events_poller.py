#!/usr/bin/env python3
"""A scheduled-events poller for the concurrency test: GETs the document once every 50 ms,
round robin over the VMs' source addresses, until the stop file appears (or 60 s pass), then
prints the count of each status (and of documents that held events) as one JSON object.

python3 scheduled_events_poller.py PORT STOPFILE SOURCE...
"""
import http.client
import json
import os
import sys
import time


def main():
    port, stop, sources = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    counts, i, deadline = {}, 0, time.monotonic() + 60
    while time.monotonic() < deadline and not os.path.exists(stop):
        source = sources[i % len(sources)]
        i += 1
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
        try:
            conn.request("GET", "/metadata/scheduledevents?api-version=2020-07-01", headers={"Metadata": "true"})
            response = conn.getresponse()
            body = response.read()
            status = str(response.status)
            if response.status == 200 and json.loads(body)["Events"]:
                counts["withEvents"] = counts.get("withEvents", 0) + 1
        except Exception as error:  # a refused or dropped connection is counted, not fatal
            status = type(error).__name__
        finally:
            conn.close()
        counts[status] = counts.get(status, 0) + 1
        time.sleep(0.05)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
