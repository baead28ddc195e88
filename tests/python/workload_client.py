"""Drive a Lanyard agent through py-spiffe's WorkloadApiClient, as a Python workload would.

usage:
  workload_client.py fetch SOCKET
      Fetch the default X.509-SVID and the bundles; check the leaf chains to a bundle authority.
      Prints {"spiffe_id", "serial", "not_after", "chain_verified", "svids"}.
  workload_client.py stream SOCKET COUNT TIMEOUT
      Watch X.509 contexts until COUNT distinct default-SVID serials were seen or TIMEOUT seconds
      passed. Prints {"updates": [{"serial", "spiffe_id", "at"}...]}.
  workload_client.py fetch-error SOCKET
      Fetch and expect an error; prints {"error": "<type>: <message>"} (exit 0) or exits 1.
SOCKET is a SPIFFE_ENDPOINT_SOCKET value such as unix:///tmp/agent.sock.
"""

import json
import sys
import threading
import time

from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from spiffe.workloadapi.workload_api_client import WorkloadApiClient


def signed_by(cert, authority) -> bool:
    pub = authority.public_key()
    try:
        if isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(pub, rsa.RSAPublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        else:
            return False
        return True
    except Exception:
        return False


def fetch(socket: str) -> int:
    client = WorkloadApiClient(socket_path=socket, default_timeout=10)
    svid = client.fetch_x509_svid()
    svids = client.fetch_x509_svids()
    bundles = client.fetch_x509_bundles()
    bundle = bundles.get_bundle_for_trust_domain(svid.spiffe_id.trust_domain)
    last = svid.cert_chain[-1]
    verified = bundle is not None and any(signed_by(last, a) for a in bundle.x509_authorities)
    print(json.dumps({
        "spiffe_id": str(svid.spiffe_id),
        "serial": format(svid.leaf.serial_number, "x"),
        "not_after": svid.leaf.not_valid_after_utc.timestamp(),
        "chain_verified": verified,
        "svids": [str(s.spiffe_id) for s in svids],
    }))
    client.close()
    return 0


def stream(socket: str, count: int, timeout: float) -> int:
    client = WorkloadApiClient(socket_path=socket)
    updates = []
    seen = set()
    done = threading.Event()
    errors = []

    def on_success(ctx):
        svid = ctx.default_svid
        serial = format(svid.leaf.serial_number, "x")
        if serial not in seen:
            seen.add(serial)
            updates.append({"serial": serial, "spiffe_id": str(svid.spiffe_id), "at": time.time()})
            if len(seen) >= count:
                done.set()

    def on_error(e):
        errors.append(f"{type(e).__name__}: {e}")

    handler = client.stream_x509_contexts(on_success, on_error)
    done.wait(timeout)
    handler.cancel()
    client.close()
    print(json.dumps({"updates": updates, "errors": errors}))
    return 0


def fetch_error(socket: str) -> int:
    client = WorkloadApiClient(socket_path=socket, default_timeout=10)
    try:
        client.fetch_x509_svid()
    except Exception as e:
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        return 0
    finally:
        client.close()
    return 1


if __name__ == "__main__":
    mode, sock = sys.argv[1], sys.argv[2]
    if mode == "fetch":
        sys.exit(fetch(sock))
    if mode == "stream":
        sys.exit(stream(sock, int(sys.argv[3]), float(sys.argv[4])))
    if mode == "fetch-error":
        sys.exit(fetch_error(sock))
    sys.exit(f"unknown mode {mode}")
