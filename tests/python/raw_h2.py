"""One Workload API call over raw HTTP/2 (Python's h2), for attack tests that need what a gRPC
client does not give: control over who holds the connection and when it is used.

client(sock): an h2 client connection whose preface has been sent on `sock`.
fetch_x509svid(sock, conn, header=True): FetchX509SVID until its first message or its end;
returns {"grpc_status", "grpc_message" (percent-decoded), "got_svid", "reset"}.
"""

import socket
import urllib.parse

import h2.config
import h2.connection
import h2.events


def client(sock):
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    return conn


def fetch_x509svid(sock, conn, header=True):
    sid = conn.get_next_available_stream_id()
    headers = [
        (":method", "POST"), (":scheme", "http"), (":authority", "localhost"),
        (":path", "/SpiffeWorkloadAPI/FetchX509SVID"),
        ("content-type", "application/grpc"), ("te", "trailers"),
    ]
    if header:
        headers.append(("workload.spiffe.io", "true"))
    conn.send_headers(sid, headers)
    conn.send_data(sid, b"\x00\x00\x00\x00\x00", end_stream=True)
    sock.sendall(conn.data_to_send())
    out = {"grpc_status": None, "grpc_message": None, "got_svid": False, "reset": False}
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
                    out["got_svid"] = True
                    done = True
            elif isinstance(ev, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                for k, v in ev.headers:
                    k = k.decode() if isinstance(k, bytes) else k
                    v = v.decode() if isinstance(v, bytes) else v
                    if k == "grpc-status":
                        out["grpc_status"] = int(v)
                        done = True
                    elif k == "grpc-message":
                        out["grpc_message"] = urllib.parse.unquote(v)
            elif isinstance(ev, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                out["reset"] = True
                done = True
            elif isinstance(ev, h2.events.StreamEnded):
                done = True
        pending = conn.data_to_send()
        if pending:
            sock.sendall(pending)
    return out
