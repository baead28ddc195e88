"""Verify a JWT-SVID with PyJWT, the way a Python service using a SPIFFE JWKS bundle would.

usage: jwt_verify.py TOKEN JWKS_JSON AUDIENCE

JWKS_JSON is the trust domain's bundle document. The key is chosen by the token's `kid` and the
algorithm comes from the header (restricted to the key's own algorithm); `exp`, `aud` and `sub`
are required. Prints the claims as JSON on success; exits 1 with PyJWT's error on stderr
otherwise.
"""

import json
import sys

import jwt


def main() -> int:
    token, jwks_json, audience = sys.argv[1:4]
    try:
        header = jwt.get_unverified_header(token)
        jwks = jwt.PyJWKSet.from_json(jwks_json)
        key = next((k for k in jwks.keys if k.key_id == header.get("kid")), None)
        if key is None:
            raise jwt.InvalidKeyError(f"no key with kid {header.get('kid')!r} in the JWKS")
        if key.algorithm_name != header.get("alg"):
            raise jwt.InvalidAlgorithmError(
                f"header alg {header.get('alg')!r} does not match key algorithm {key.algorithm_name!r}"
            )
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[header["alg"]],
            audience=audience,
            options={"require": ["exp", "aud", "sub"]},
        )
    except Exception as e:  # report any PyJWT error type
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
