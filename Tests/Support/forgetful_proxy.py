"""A TCP proxy to a Unix socket that can forget its connections, for the tests of a pooled
connection found dead when it is next used.

It stands for what sits between a client and a database server and can lose a connection's
state without a word: a server host that rebooted, a virtual address moved to another host,
a NAT or firewall that restarted. On SIGUSR1 it closes the server side of every connection
open now, says nothing to the clients, and answers a forgotten connection's next bytes with a
reset (RST), as a host that no longer knows the connection does. Connections made afterwards
are proxied as before, until SIGUSR2 closes the listening socket: then nothing answers a new
connection. It writes its port to --port-file once it listens, appends a line to --ack-file
each time it has done what a signal asked, and exits after --lifetime seconds.
"""

import argparse
import os
import signal
import socket
import struct
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--target", required=True, help="the Unix socket to forward to")
parser.add_argument("--port-file", required=True)
parser.add_argument("--ack-file", required=True)
parser.add_argument("--lifetime", type=float, default=300)
args = parser.parse_args()

lock = threading.Lock()
pairs = []  # [client, server, forgotten]


def reset(client):
    """Closes `client` with a reset rather than an orderly close."""
    try:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
    except OSError:
        pass


def forgotten(pair):
    with lock:
        return pair[2]


def copy(source, sink, stop=lambda: False):
    """Copies until `source` ends or fails: True; False when `stop()` says so first."""
    try:
        while True:
            data = source.recv(65536)
            if stop():
                return False
            if not data:
                return True
            sink.sendall(data)
    except OSError:
        return True


def shut(sock):
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def to_server(pair):
    client, server = pair[0], pair[1]
    if copy(client, server, stop=lambda: forgotten(pair)):
        shut(server)
    else:
        reset(client)


def to_client(pair):
    client, server = pair[0], pair[1]
    copy(server, client)
    server.close()
    if not forgotten(pair):
        shut(client)  # the server ended it: so does the client, in order


def forget(signum, frame):
    with lock:
        current = [pair for pair in pairs if not pair[2]]
        for pair in current:
            pair[2] = True
    for pair in current:
        try:
            pair[1].shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    with open(args.ack_file, "a") as ack:
        ack.write(f"forgot {len(current)}\n")


def stop_listening(signum, frame):
    listener.close()
    with open(args.ack_file, "a") as ack:
        ack.write("closed\n")


signal.signal(signal.SIGUSR1, forget)
signal.signal(signal.SIGUSR2, stop_listening)
signal.signal(signal.SIGALRM, lambda signum, frame: os._exit(0))
signal.setitimer(signal.ITIMER_REAL, args.lifetime)

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
with open(args.port_file + ".tmp", "w") as port_file:
    port_file.write(str(listener.getsockname()[1]))
os.rename(args.port_file + ".tmp", args.port_file)

while True:
    try:
        client, _ = listener.accept()
    except OSError:
        break  # closed by SIGUSR2
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.connect(args.target)
    except OSError:
        reset(client)
        continue
    pair = [client, server, False]
    with lock:
        pairs.append(pair)
    threading.Thread(target=to_server, args=(pair,), daemon=True).start()
    threading.Thread(target=to_client, args=(pair,), daemon=True).start()

# The connections open go on until the lifetime ends.
while True:
    time.sleep(3600)
