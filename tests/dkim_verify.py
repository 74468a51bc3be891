"""Verify the DKIM signature of a received message with dkimpy, against a stubbed DNS record.

Usage:  python3 tests/dkim_verify.py MESSAGE_FILE SELECTOR DOMAIN KEY_TYPE PUBLIC_KEY_B64
        KEY_TYPE is rsa or ed25519. Prints one JSON line: {"valid": bool, "signature": {tags}}.
Exits 0 whatever the verdict; 3 with "pip install ..." when a library is missing.
"""
import json
import sys


def main():
    path, selector, domain, key_type, public = sys.argv[1:6]
    try:
        import dkim
    except ImportError:
        print("dkimpy is missing: pip install dkimpy", flush=True)
        sys.exit(3)
    if key_type == "ed25519":
        try:
            import nacl  # noqa: F401  (dkimpy verifies Ed25519 with PyNaCl)
        except ImportError:
            print("PyNaCl is missing: pip install pynacl", flush=True)
            sys.exit(3)

    record = f"v=DKIM1; k={key_type}; p={public}".encode()
    expected = f"{selector}._domainkey.{domain}.".encode()
    asked = []

    def dnsfunc(name, timeout=5):
        asked.append(name.decode(errors="replace"))
        return record if name.rstrip(b".") == expected.rstrip(b".") else None

    with open(path, "rb") as f:
        message = f.read()
    d = dkim.DKIM(message)
    try:
        valid = d.verify(dnsfunc=dnsfunc)
    except dkim.DKIMException as e:
        valid = False
        print(f"dkim: {e}", file=sys.stderr)
    tags = {}
    sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
    if sigs:
        tags = {
            k.decode(): v.decode()
            for k, v in dkim.util.parse_tag_value(sigs[0]).items()
        }
    print(json.dumps({"valid": bool(valid), "signatures": len(sigs), "tags": tags, "asked": asked}))


if __name__ == "__main__":
    main()
