#!/usr/bin/env python3
"""Scheduled-events clients as they are written in the wild: the Python standard library only,
each bound to its own source address, so that the server knows which VM asks.

python3 metadata_client.py MODE --port P --source 127.0.0.2 [--host 169.254.169.254] [ARGS]; exit 0
when the client got what it expects, 1 otherwise, with what it saw on stdout. The server is at
--host (default 127.0.0.1), the address real clients use is 169.254.169.254.
"""
import argparse
import email.utils
import http.client
import json
import sys
import time

PATH = "/metadata/scheduledevents?api-version="


def request(args, method, version, headers=None, body=None):
    conn = http.client.HTTPConnection(args.host, args.port, timeout=60, source_address=(args.source, 0))
    try:
        conn.putrequest(method, PATH + version)
        for name, value in (headers or [("Metadata", "true")]):
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def document(args, version="2020-07-01", headers=None):
    status, head, body = request(args, "GET", version, headers)
    if status != 200:
        print(f"GET {version}: {status} {body!r}")
        sys.exit(1)
    return json.loads(body), head


def approve(args, ids, version="2020-07-01", content_type=None, extra=None):
    payload = {"StartRequests": [{"EventId": i} for i in ids]}
    payload.update(extra or {})
    headers = [("Metadata", "true")] + ([("Content-Type", content_type)] if content_type else [])
    status, _, body = request(args, "POST", version, headers, json.dumps(payload).encode())
    if status != 200:
        print(f"POST {version}: {status} {body!r}")
        sys.exit(1)
    if body:
        json.loads(body)  # some clients parse the answer
    print("approved " + " ".join(ids))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    if args.mode == "healthz":
        conn = http.client.HTTPConnection(args.host, args.port, timeout=60, source_address=(args.source, 0))
        try:
            conn.request("GET", "/healthz")
            print(conn.getresponse().status)
        finally:
            conn.close()
    elif args.mode == "document":
        doc, _ = document(args)
        print(json.dumps(doc))
    elif args.mode == "lowercase-header":
        doc, _ = document(args, headers=[("metadata", "true")])
        print(json.dumps(doc))
    elif args.mode in ("post-no-content-type", "post-form", "post-json"):
        doc, _ = document(args)
        ids = [e["EventId"] for e in doc["Events"]]
        if args.mode == "post-no-content-type":
            approve(args, ids)
        elif args.mode == "post-form":
            approve(args, ids, content_type="application/x-www-form-urlencoded",
                    extra={"DocumentIncarnation": doc["DocumentIncarnation"]})
        else:
            approve(args, ids, content_type="application/json")
    elif args.mode == "notbefore":
        doc, _ = document(args)
        for event in doc["Events"]:
            when = email.utils.parsedate_to_datetime(event["NotBefore"])
            if when.utcoffset() is None or when.utcoffset().total_seconds() != 0:
                print(f"NotBefore {event['NotBefore']!r} is not in GMT")
                sys.exit(1)
            print(event["EventId"] + " " + when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    elif args.mode == "require-2020":
        doc, _ = document(args, "2020-07-01")
        for event in doc["Events"]:
            description, source, duration = event["Description"], event["EventSource"], event["DurationInSeconds"]
            if not isinstance(duration, int) or isinstance(duration, bool) or source not in ("Platform", "User"):
                print(f"bad event {event}")
                sys.exit(1)
            print(f"{event['EventId']} {description!r} {source} {duration}")
    elif args.mode == "mixed-versions":
        doc, _ = document(args, "2017-03-01")
        if any("Description" in e or "EventSource" in e for e in doc["Events"]):
            print("2017-03-01 has later fields")
            sys.exit(1)
        approve(args, [e["EventId"] for e in doc["Events"]], version="2019-08-01")
    elif args.mode == "etag":
        doc, head = document(args)
        etag = head.get("ETag")
        status, _, body = request(args, "GET", "2020-07-01", [("Metadata", "true"), ("If-None-Match", etag)])
        print(f"etag {etag} then {status} {len(body)}")
        sys.exit(0 if status == 304 and not body else 1)
    elif args.mode == "poller":
        # Once a second until the document changes, then approve everything in it.
        first, _ = document(args)
        print(f"incarnation {first['DocumentIncarnation']}", flush=True)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            time.sleep(1)
            doc, _ = document(args)
            if doc["DocumentIncarnation"] != first["DocumentIncarnation"]:
                print(f"incarnation {doc['DocumentIncarnation']}", flush=True)
                approve(args, [e["EventId"] for e in doc["Events"]])
                return
        print("the document never changed")
        sys.exit(1)
    else:
        parser.error(f"unknown mode {args.mode}")


if __name__ == "__main__":
    main()
