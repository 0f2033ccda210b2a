"""Real servers for the channel tests: an aiosmtpd SMTP server and a fake provider cloud.

The fake cloud speaks HTTP on 127.0.0.1 like Twilio's Messages API and Meta's WhatsApp
Cloud API do: it checks each request's shape the way their published documentation
describes it, and answers with the documented success and error bodies a test scripts.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SMTP_USER, SMTP_PASSWORD = "doorcode", "s3cret-smtp-password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def refusing_port() -> Iterator[int]:
    """A port nobody listens on, held for the test: bound but never listening, so connections
    are refused, and no other test process (pytest-xdist workers, other runs) can take it."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@dataclass
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def make_certificate(folder: Path) -> Certificate:
    """A self-signed certificate for localhost and 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_path, key_path)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    authenticated: bool


@dataclass
class MailHandler:
    """Keeps what arrives; a test can make it refuse recipients or the data."""

    received: list[Received] = field(default_factory=list)
    rcpt_reply: str | None = None
    data_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append(
            Received(
                envelope.mail_from, list(envelope.rcpt_tos), message, bool(session.authenticated)
            )
        )
        return "250 2.0.0 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    if not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 or 535 itself


@dataclass
class SmtpServer:
    port: int
    handler: MailHandler
    controller: Controller

    @property
    def received(self) -> list[Received]:
        return self.handler.received


def start_smtp(security: str, certificate: Certificate | None) -> SmtpServer:
    """An aiosmtpd server: ``none`` (no TLS, no auth), ``starttls`` or ``ssl`` (both with auth)."""
    handler = MailHandler()
    port = free_port()
    options: dict = {"server_hostname": "doorcode-test", "ready_timeout": 10}
    if security == "starttls":
        assert certificate is not None
        options.update(
            tls_context=certificate.server_context(),
            require_starttls=True,
            authenticator=authenticator,
            auth_required=True,
        )
    elif security == "ssl":
        assert certificate is not None
        options.update(
            ssl_context=certificate.server_context(),
            authenticator=authenticator,
            auth_required=True,
            # aiosmtpd only sees STARTTLS as TLS; this connection is TLS from the first byte.
            auth_require_tls=False,
        )
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return SmtpServer(port, handler, controller)


# A fake provider cloud


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}

    def json(self) -> dict:
        return json.loads(self.body)

    def basic_auth(self) -> tuple[str, str]:
        scheme, _, encoded = self.headers.get("authorization", "").partition(" ")
        assert scheme == "Basic"
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        return user, password


@dataclass
class Answer:
    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


TWILIO_SID = "AC" + "0" * 32
WHATSAPP_PHONE_ID = "106540352242922"
WHATSAPP_VERSION = "v21.0"


def twilio_created(to: str) -> Answer:
    """Twilio's documented 201 for a new message."""
    return Answer(
        201,
        {
            "account_sid": TWILIO_SID,
            "api_version": "2010-04-01",
            "body": "(redacted by the fake)",
            "date_created": "Thu, 24 Aug 2026 05:01:45 +0000",
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": "+15557122661",
            "num_segments": "1",
            "sid": "SM" + "1" * 32,
            "status": "queued",
            "to": to,
            "uri": f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/SM{'1' * 32}.json",
        },
    )


def twilio_error(status: int, code: int, message: str, headers: dict | None = None) -> Answer:
    """Twilio's documented error body."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Answer(status, body, headers or {})


def whatsapp_sent(to: str) -> Answer:
    """The Cloud API's documented 200 for a sent message."""
    return Answer(
        200,
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}],
        },
    )


def whatsapp_error(status: int, code: int, title: str, details: str) -> Answer:
    """A Graph API error as the Cloud API documents it."""
    body = {
        "error": {
            "message": f"(#{code}) {title}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
        }
    }
    return Answer(status, body)


class FakeCloud:
    """Twilio and WhatsApp on one local port; answers come from per-provider queues."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.answers: dict[str, deque[Answer]] = {"twilio": deque(), "whatsapp": deque()}
        self.problems: list[str] = []
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                recorded = Recorded(
                    "POST",
                    self.path,
                    {key.lower(): value for key, value in self.headers.items()},
                    self.rfile.read(length),
                )
                cloud.requests.append(recorded)
                answer = cloud.answer_for(recorded)
                time.sleep(answer.delay)
                payload = json.dumps(answer.body).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in answer.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as a test of timeouts wants

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer_for(self, request: Recorded) -> Answer:
        if request.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json":
            problems = twilio_problems(request)
            provider = "twilio"
        elif request.path == f"/{WHATSAPP_VERSION}/{WHATSAPP_PHONE_ID}/messages":
            problems = whatsapp_problems(request)
            provider = "whatsapp"
        else:
            self.problems.append(f"unknown path {request.path}")
            return Answer(404, {"code": 20404, "message": "not found", "status": 404})
        if problems:
            self.problems.extend(problems)
            return Answer(400, {"code": 21602, "message": "; ".join(problems), "status": 400})
        queue = self.answers[provider]
        if queue:
            return queue.popleft()
        payload = request.form() if provider == "twilio" else request.json()
        return (
            twilio_created(payload["To"]) if provider == "twilio" else whatsapp_sent(payload["to"])
        )


def twilio_problems(request: Recorded) -> list[str]:
    problems = []
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        problems.append("Twilio takes a form-encoded body")
    try:
        user, password = request.basic_auth()
    except AssertionError:
        return [*problems, "Twilio needs HTTP basic auth"]
    if user != TWILIO_SID or not password:
        problems.append("basic auth must be the account SID and the auth token")
    form = request.form()
    if not form.get("To", "").startswith("+"):
        problems.append("To must be an E.164 number")
    if not (form.get("From") or form.get("MessagingServiceSid")):
        problems.append("From or MessagingServiceSid is required")
    if not form.get("Body"):
        problems.append("Body is required")
    return problems


def whatsapp_problems(request: Recorded) -> list[str]:
    problems = []
    if not request.headers.get("authorization", "").startswith("Bearer "):
        problems.append("the Cloud API takes a bearer token")
    body = request.json()
    if body.get("messaging_product") != "whatsapp":
        problems.append("messaging_product must be whatsapp")
    if body.get("type") != "template":
        problems.append("a first message to a guest must be a template message")
    if not str(body.get("to", "")).isdigit():
        problems.append("to must be the phone number's digits")
    template = body.get("template", {})
    if not template.get("name") or not template.get("language", {}).get("code"):
        problems.append("template needs a name and a language code")
    for component in template.get("components", []):
        if component.get("type") != "body":
            problems.append("only body parameters are expected")
        for parameter in component.get("parameters", []):
            text = parameter.get("text", "")
            if parameter.get("type") != "text" or not text:
                problems.append("parameters are non-empty text")
            if "\n" in text or "\t" in text or "     " in text:
                problems.append("parameter text cannot have new-lines, tabs or 4+ spaces")
    return problems
