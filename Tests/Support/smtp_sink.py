#!/usr/bin/env python3
"""A real SMTP server on loopback for Pitstop's notifier tests (aiosmtpd from PyPI).

Every accepted message is appended to --out as one JSON line
{"mailfrom": ..., "rcpttos": [...], "data": "..."}, flushed and fsynced before the server
answers 250 to the end of DATA, so a test that reads the file sees every message the
client was told was accepted.

  python3 smtp_sink.py --out FILE [--port N] [--port-file FILE] [--refuse ADDR]...
                       [--delay SECONDS] [--no-ehlo]

--port 0 (the default) lets the kernel choose; the chosen port is printed on stdout as
"PORT n" and, with --port-file, written to that file once the server accepts connections.
--refuse ADDR answers 550 to RCPT TO:<ADDR>. --delay waits between storing a message and
answering 250 (a slow relay: a client killed then has sent a message without hearing it
accepted, the at-least-once window of SMTP). --no-ehlo answers 502 to EHLO (HELO fallback).
The server stops on SIGTERM or SIGINT, or after --lifetime seconds (default 600).
"""
import argparse
import asyncio
import json
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out, refuse, delay):
        self.out = out
        self.refuse = {a.lower() for a in refuse}
        self.delay = delay

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 <%s>: mailbox unavailable (refused by the test sink)" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.content
        if isinstance(content, bytes):
            content = content.decode("utf-8", "surrogateescape")
        record = {"mailfrom": envelope.mail_from, "rcpttos": list(envelope.rcpt_tos),
                  "data": content.encode("utf-8", "surrogateescape").decode("utf-8", "replace")}
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())
        # Like a relay that has queued the message but is slow to say so: a client killed
        # now has had its message delivered without hearing the 250.
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 OK: queued"


class NoEHLO(SMTP):
    async def smtp_EHLO(self, hostname):
        await self.push("502 5.5.1 EHLO not implemented (test sink)")


async def main():
    # A parent may have started us with signals blocked (Swift's test runner does): unblock
    # them, or SIGTERM would never reach the handler below.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--out", required=True)
    parser.add_argument("--port-file")
    parser.add_argument("--refuse", action="append", default=[])
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--no-ehlo", action="store_true")
    parser.add_argument("--lifetime", type=float, default=600.0)
    args = parser.parse_args()

    handler = Sink(args.out, args.refuse, args.delay)
    kind = NoEHLO if args.no_ehlo else SMTP
    loop = asyncio.get_running_loop()
    # A fixed hostname: the default asks DNS for this host's FQDN, which can hang offline.
    server = await loop.create_server(
        lambda: kind(handler, hostname="pitstop-test-sink", decode_data=False, enable_SMTPUTF8=False),
        host=args.host, port=args.port)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("PORT %d" % port, flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.lifetime)
    except asyncio.TimeoutError:
        pass
    server.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
