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

import h2.config
import h2.connection
import h2.events


def main() -> int:
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(sys.argv[1])
    sock.settimeout(30)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [
        (":method", "POST"), (":scheme", "http"), (":authority", "localhost"),
        (":path", "/SpiffeWorkloadAPI/FetchX509SVID"),
        ("content-type", "application/grpc"), ("te", "trailers"),
    ])
    conn.send_data(sid, b"\x00\x00\x00\x00\x00", end_stream=True)
    sock.sendall(conn.data_to_send())
    status, ended_at, closed_after = None, None, None
    while True:
        try:
            data = sock.recv(65535)
        except socket.timeout:
            break
        except ConnectionResetError:
            data = b""
        if not data:
            if ended_at is not None:
                closed_after = int((time.monotonic() - ended_at) * 1000)
            break
        for ev in conn.receive_data(data):
            if isinstance(ev, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                for k, v in ev.headers:
                    if k in (b"grpc-status", "grpc-status"):
                        status = int(v)
            if isinstance(ev, h2.events.StreamEnded) and ended_at is None:
                ended_at = time.monotonic()
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
    print(json.dumps({"grpc_status": status, "closed_after_ms": closed_after}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
