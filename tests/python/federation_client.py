"""What a Python workload is handed of a foreign trust domain, through py-spiffe and raw gRPC.

usage: federation_client.py SOCKET FOREIGN_TD TOKEN AUDIENCE

SOCKET is a SPIFFE_ENDPOINT_SOCKET value such as unix:///tmp/agent.sock; FOREIGN_TD a bare trust
domain name (orders.example); TOKEN a JWT-SVID of that trust domain issued for AUDIENCE.

Reads the first message of FetchX509SVID, FetchX509Bundles and FetchJWTBundles over a gRPC
channel of its own (the map keys exactly as the agent sent them), asks py-spiffe's
WorkloadApiClient for the X.509 bundle of FOREIGN_TD, and has the agent validate TOKEN
(ValidateJWTSVID). Prints one JSON line:
  {"spiffe_id", "federated_bundles": [keys], "x509_bundles": [keys], "jwt_bundles": [keys],
   "py_spiffe_foreign_bundle": bool, "py_spiffe_error": str|null,
   "validated": str|null, "validate_error": str|null}
"""

import json
import sys

import grpc
from spiffe._proto import workload_pb2, workload_pb2_grpc
from spiffe.workloadapi.workload_api_client import WorkloadApiClient

HEADER = [("workload.spiffe.io", "true")]


def first(stream):
    message = next(stream)
    stream.cancel()
    return message


def raw_keys(socket: str) -> dict:
    """The bundle map keys of the first message of each streaming call, sorted."""
    with grpc.insecure_channel(socket) as channel:
        stub = workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)
        svid = first(stub.FetchX509SVID(workload_pb2.X509SVIDRequest(), metadata=HEADER, timeout=10))
        x509 = first(stub.FetchX509Bundles(workload_pb2.X509BundlesRequest(), metadata=HEADER, timeout=10))
        jwt = first(stub.FetchJWTBundles(workload_pb2.JWTBundlesRequest(), metadata=HEADER, timeout=10))
        return {
            "spiffe_id": svid.svids[0].spiffe_id if svid.svids else None,
            "federated_bundles": sorted(svid.federated_bundles.keys()),
            "x509_bundles": sorted(x509.bundles.keys()),
            "jwt_bundles": sorted(jwt.bundles.keys()),
        }


def trust_domain(name: str):
    try:
        from spiffe import TrustDomain
    except ImportError:  # older py-spiffe layouts
        from spiffe.spiffe_id.spiffe_id import TrustDomain
    return TrustDomain(name)


def main() -> int:
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    socket, foreign, token, audience = sys.argv[1:5]
    out = raw_keys(socket)
    client = WorkloadApiClient(socket_path=socket, default_timeout=10)
    try:
        bundles = client.fetch_x509_bundles()
        out["py_spiffe_foreign_bundle"] = bundles.get_bundle_for_trust_domain(trust_domain(foreign)) is not None
        out["py_spiffe_error"] = None
    except Exception as e:  # report, do not hide: the test prints it
        out["py_spiffe_foreign_bundle"] = None
        out["py_spiffe_error"] = f"{type(e).__name__}: {e}"
    try:
        validated = client.validate_jwt_svid(token, audience)
        out["validated"] = str(validated.spiffe_id)
        out["validate_error"] = None
    except Exception as e:  # py-spiffe wraps the gRPC status
        out["validated"] = None
        out["validate_error"] = f"{type(e).__name__}: {e}"
    client.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
