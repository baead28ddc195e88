"""Parse an X.509-SVID with py-spiffe, the way a Python workload would.

usage: x509_svid_parse.py CHAIN_DER KEY_PKCS8_DER [BUNDLE_DER]

CHAIN_DER is the concatenated DER chain (leaf first), KEY_PKCS8_DER the PKCS#8 DER private key,
both exactly as the Workload API carries them. With BUNDLE_DER (concatenated DER authorities),
the bundle is parsed too and the leaf's signature is checked against it.
Prints one JSON object on success; exits 1 with the py-spiffe error on stderr otherwise.
"""

import json
import sys

from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from spiffe.bundle.x509_bundle.x509_bundle import X509Bundle
from spiffe.spiffe_id.spiffe_id import TrustDomain
from spiffe.svid.x509_svid import X509Svid


def main() -> int:
    chain = open(sys.argv[1], "rb").read()
    key = open(sys.argv[2], "rb").read()
    try:
        svid = X509Svid.parse_raw(chain, key)
    except Exception as e:  # py-spiffe raises its own error types; report any of them
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    out = {
        "spiffe_id": str(svid.spiffe_id),
        "chain_len": len(svid.cert_chain),
        "not_after": svid.leaf.not_valid_after_utc.isoformat(),
    }
    if len(sys.argv) > 3:
        td = TrustDomain(svid.spiffe_id.trust_domain.name)
        bundle = X509Bundle.parse_raw(td, open(sys.argv[3], "rb").read())
        issuer = svid.cert_chain[-1]
        verified = False
        for authority in bundle.x509_authorities:
            pub = authority.public_key()
            try:
                if isinstance(pub, ec.EllipticCurvePublicKey):
                    pub.verify(issuer.signature, issuer.tbs_certificate_bytes,
                               ec.ECDSA(issuer.signature_hash_algorithm))
                elif isinstance(pub, rsa.RSAPublicKey):
                    pub.verify(issuer.signature, issuer.tbs_certificate_bytes,
                               padding.PKCS1v15(), issuer.signature_hash_algorithm)
                verified = True
            except Exception:
                continue
        out["bundle_authorities"] = len(bundle.x509_authorities)
        out["signed_by_bundle"] = verified
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
