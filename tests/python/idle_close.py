"""Idle connections: after its only call ends, how long until the agent closes the connection?

usage: idle_close.py SOCKET_PATH

Sends one FetchX509SVID without the security header (the agent answers InvalidArgument at
once, so the call ends), then waits for the agent to close the connection. Prints
{"grpc_status": N, "closed_after_ms": T} (T from the end of the call; null if not closed in 30 s).
"""

import json
import socket
import sys
import time

import raw_h2


def main() -> int:
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(sys.argv[1])
    sock.settimeout(30)
    out = raw_h2.fetch_x509svid(sock, raw_h2.client(sock), header=False)
    ended_at = time.monotonic()
    closed_after = None
    try:
        while sock.recv(65535):
            pass
        closed_after = int((time.monotonic() - ended_at) * 1000)
    except ConnectionResetError:
        closed_after = int((time.monotonic() - ended_at) * 1000)
    except socket.timeout:
        pass
    print(json.dumps({"grpc_status": out["grpc_status"], "closed_after_ms": closed_after}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
