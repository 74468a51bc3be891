"""A loopback SMTP server for the digest tests, and a parser for what it received.

Serve:  python3 tests/smtp_sink.py serve PORT DIR MODE
        MODE is accept | reject-sender | drop | tempfail-once (451 to the first MAIL FROM, then
        accept) | refuse=ADDR[,ADDR...] (550 to RCPT TO of those addresses, accept the others)
        | putoff=ADDR[,ADDR...] (451 to RCPT TO of each of those addresses the first time
        it is offered, as greylisting does; accepted afterwards) | limit=N (452 4.5.3 to
        each RCPT TO past the Nth accepted in one transaction, as servers with a limit on
        recipients per message do) | starttls (offers STARTTLS and requires it before MAIL
        FROM, with a self-signed certificate for "myhost", as a local relay's often is) |
        smtps (TLS from the first byte, with a certificate for 127.0.0.1 issued by a test CA
        whose certificate is written to DIR/ca.pem) | auth=USER:PASS (requires AUTH PLAIN or
        LOGIN with these credentials, over plain text too). Several modes combine with "+",
        e.g. limit=2+putoff=ADDR. Certificates need the `cryptography` package.
        Prints "ready" once listening; every accepted
        message is written to DIR/<n>.eml, its envelope recipients to DIR/<n>.rcpt (a JSON
        list). Runs until killed.
Parse:  python3 tests/smtp_sink.py parse FILE
        Prints a JSON summary of the message (headers, part types, charsets, decoded bodies,
        the List-Id's phrase and id).
"""
import asyncio
import json
import os
import sys
import time


def serve(port, folder, mode):
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        print("aiosmtpd is missing: pip install aiosmtpd", flush=True)
        sys.exit(3)

    modes = mode.split("+")

    def value(key):
        return next((m[len(key) + 1:] for m in modes if m.startswith(key + "=")), None)

    refused = (value("refuse") or "").split(",")
    put_off = set((value("putoff") or "").split(",")) - {""}
    limit = int(value("limit") or 0)
    mails = [0]

    class Handler:
        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            mails[0] += 1
            if "reject-sender" in modes:
                return "550 5.7.1 sender refused"
            if "tempfail-once" in modes and mails[0] == 1:
                return "451 4.3.0 try again later"
            envelope.mail_from = address
            return "250 OK"

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if limit and len(envelope.rcpt_tos) >= limit:
                return "452 4.5.3 too many recipients"
            if address in refused:
                return "550 5.1.1 no such user"
            if address in put_off:
                put_off.discard(address)
                return "451 4.7.1 greylisted, try again later"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            if "drop" in modes:
                server.transport.close()
                return "421 closing"
            n = len([f for f in os.listdir(folder) if f.endswith(".eml")])
            path = os.path.join(folder, f"{n:03}.eml")
            # The envelope's recipients, next to the message: who it was really sent to.
            with open(os.path.join(folder, f"{n:03}.rcpt"), "w") as f:
                json.dump(envelope.rcpt_tos, f)
            with open(path + ".tmp", "wb") as f:
                f.write(envelope.original_content or envelope.content)
            os.replace(path + ".tmp", path)
            return "250 OK queued"

    options = {}
    if "starttls" in modes:
        options["tls_context"] = tls_context(folder, signed_by_ca=False)
        options["require_starttls"] = True
    if "smtps" in modes:
        options["ssl_context"] = tls_context(folder, signed_by_ca=True)
    credentials = value("auth")
    if credentials is not None:
        from aiosmtpd.smtp import AuthResult

        def authenticator(server, session, envelope, mechanism, auth_data):
            user, _, password = credentials.partition(":")
            ok = (
                auth_data is not None
                and auth_data.login == user.encode()
                and auth_data.password == password.encode()
            )
            return AuthResult(success=ok, handled=False)

        options["authenticator"] = authenticator
        options["auth_required"] = True
        # Plain-text AUTH is what the tests want: aiosmtpd need not warn about it.
        import logging
        import warnings

        warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        options["auth_require_tls"] = False
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def tls_context(folder, signed_by_ca):
    """A server TLS context. Self-signed: a certificate for "myhost" that is its own CA (as a
    stock local relay's). Signed by a CA: a certificate for 127.0.0.1 from a test CA, whose
    certificate goes to FOLDER/ca.pem."""
    import datetime
    import ssl
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(subject, issuer, public_key, signing_key, ca, san):
        b = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san is not None:
            b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return b.sign(signing_key, hashes.SHA256())

    key = ec.generate_private_key(ec.SECP256R1())
    if signed_by_ca:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = cert("feedwright test CA", "feedwright test CA", ca_key.public_key(), ca_key, True, None)
        with open(os.path.join(folder, "ca.pem"), "wb") as f:
            f.write(ca.public_bytes(serialization.Encoding.PEM))
        leaf = cert(
            "127.0.0.1",
            "feedwright test CA",
            key.public_key(),
            ca_key,
            False,
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
        )
    else:
        leaf = cert("myhost", "myhost", key.public_key(), key, True, [x509.DNSName("myhost")])
    pem = tempfile.NamedTemporaryFile(suffix=".pem", delete=False)
    pem.write(leaf.public_bytes(serialization.Encoding.PEM))
    pem.write(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pem.close()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pem.name)
    os.unlink(pem.name)
    return ctx


def parse(path):
    from email import policy
    from email.parser import BytesParser

    with open(path, "rb") as f:
        msg = BytesParser(policy=policy.default).parse(f)
    parts = []
    for part in msg.iter_parts() if msg.is_multipart() else [msg]:
        parts.append(
            {
                "type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "body": part.get_content(),
            }
        )
    headers = {k: str(v) for k, v in msg.items()}
    out = {"type": msg.get_content_type(), "headers": headers, "parts": parts}
    raw = dict(msg.raw_items()).get("List-Id")
    if raw is not None:
        out["list_id"] = parse_list_id(raw)
    print(json.dumps(out))


def parse_list_id(raw):
    """The List-Id's phrase (unquoted, encoded-words decoded) and id, as a mail client reads them."""
    import re
    from email.header import decode_header, make_header
    from email.utils import parseaddr

    unfolded = re.sub(r"\r?\n(?=[ \t])", "", raw)
    name, list_id = parseaddr(unfolded)
    return {
        "raw": unfolded,
        "phrase": str(make_header(decode_header(name))),
        "id": list_id,
    }


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        parse(sys.argv[2])
