"""Drive a Lanyard agent's JWT-SVID profile through py-spiffe, as a Python workload would.

usage:
  jwt_client.py fetch-validate SOCKET AUDIENCE
      Fetch a JWT-SVID for AUDIENCE with py-spiffe's WorkloadApiClient, have the agent validate
      it (ValidateJWTSVID), fetch the JWT bundles and validate it locally with
      JwtSvid.parse_and_validate, and check that validating for another audience fails. Also
      reads FetchJWTBundles' first message over a gRPC channel of its own, to hand the raw JWKS
      documents to PyJWT. Prints {"token", "spiffe_id", "agent_validated", "agent_audience",
      "locally_validated", "wrong_audience_error", "jwks": {"spiffe://td": "<JWKS JSON>"}}.
SOCKET is a SPIFFE_ENDPOINT_SOCKET value such as unix:///tmp/agent.sock.
"""

import json
import sys

import grpc
from spiffe._proto import workload_pb2, workload_pb2_grpc
from spiffe.svid.jwt_svid import JwtSvid
from spiffe.workloadapi.workload_api_client import WorkloadApiClient


def raw_jwks(socket: str) -> dict:
    """The first FetchJWTBundles message, as {trust domain ID: JWKS JSON text}."""
    with grpc.insecure_channel(socket) as channel:
        stub = workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)
        stream = stub.FetchJWTBundles(
            workload_pb2.JWTBundlesRequest(),
            metadata=[("workload.spiffe.io", "true")],
            timeout=10,
        )
        first = next(stream)
        stream.cancel()
        return {td: jwks.decode("utf-8") for td, jwks in first.bundles.items()}


def fetch_validate(socket: str, audience: str) -> int:
    client = WorkloadApiClient(socket_path=socket, default_timeout=10)
    svid = client.fetch_jwt_svid(audience={audience})
    validated = client.validate_jwt_svid(svid.token, audience)
    bundles = client.fetch_jwt_bundles()
    bundle = bundles.get_bundle_for_trust_domain(svid.spiffe_id.trust_domain)
    local = JwtSvid.parse_and_validate(svid.token, bundle, {audience})
    try:
        client.validate_jwt_svid(svid.token, audience + "-other")
        wrong = None
    except Exception as e:  # py-spiffe wraps the gRPC status
        wrong = f"{type(e).__name__}: {e}"
    print(json.dumps({
        "token": svid.token,
        "spiffe_id": str(svid.spiffe_id),
        "agent_validated": str(validated.spiffe_id),
        "agent_audience": sorted(validated.audience),
        "locally_validated": str(local.spiffe_id),
        "wrong_audience_error": wrong,
        "jwks": raw_jwks(socket),
    }, default=str))
    client.close()
    return 0


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "fetch-validate":
        return fetch_validate(sys.argv[2], sys.argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
