"""Exec after connect (issue 13): see tests/e2e/hostile_workload/exec.rs.

usage: exec_after_connect.py direct SOCKET UID GID
       exec_after_connect.py exec SOCKET UID GID PROGRAM

direct: drop to UID/GID, connect, FetchX509SVID (the honest client).
exec: drop to UID/GID, connect, wait for the server's SETTINGS (the agent has accepted), fork;
the parent execs `PROGRAM 30`, the child waits until it has (its `comm`), sends FetchX509SVID
over the inherited connection, reports, and kills the parent. Prints one JSON line: grpc status
and (decoded) message, whether an SVID came, and (exec) the parent's `Gid:` line after the exec.
"""
import json, os, signal, socket, sys, time

import h2.events

import raw_h2

def main():
    mode, path, uid, gid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if (os.getuid(), os.getgid()) != (uid, gid):
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(10)
    sock.connect(path)
    conn = raw_h2.client(sock)
    # The server's SETTINGS: the agent has accepted the connection and recorded its peer.
    settled = False
    while not settled:
        data = sock.recv(65535)
        if not data:
            sys.exit("the agent closed the connection before its SETTINGS")
        events = conn.receive_data(data)
        settled = any(isinstance(e, h2.events.RemoteSettingsChanged) for e in events)
        pending = conn.data_to_send()
        if pending:
            sock.sendall(pending)
    if mode == "direct":
        print(json.dumps(raw_h2.fetch_x509svid(sock, conn)))
        return
    program = sys.argv[5]
    sys.stdout.flush()
    if os.fork() == 0:
        parent = os.getppid()
        name = os.path.basename(program)[:15]
        deadline = time.monotonic() + 10
        while open(f"/proc/{parent}/comm").read().strip() != name:
            if time.monotonic() > deadline:
                print(json.dumps({"error": "the parent did not exec " + program}))
                os._exit(1)
            time.sleep(0.005)
        gids = [l for l in open(f"/proc/{parent}/status") if l.startswith("Gid:")][0].split()[1:]
        out = raw_h2.fetch_x509svid(sock, conn)
        out["parent_gids"] = [int(g) for g in gids]
        print(json.dumps(out))
        sys.stdout.flush()
        os.kill(parent, signal.SIGKILL)
        os._exit(0)
    # The connection is close-on-exec here: only the child holds it after this.
    os.execv(program, [program, "30"])

main()
