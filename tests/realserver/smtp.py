"""A real SMTP server on loopback for the email tests: aiosmtpd with STARTTLS and AUTH.

It speaks for a relay such as an ISP's or a mail provider's submission port: STARTTLS is
offered and required before anything else, AUTH (PLAIN or LOGIN) only over TLS and required
before MAIL FROM, with one user name and password. The password it accepts can change while
it runs (`server.password = ...`), so a Synapse configured with the old one now holds a wrong
password, as after a rotation at the provider.

Every message it accepts is kept (`messages`), and every AUTH attempt (`logins`: user name,
mechanism, accepted or not), never the password tried.
"""

from __future__ import annotations

import dataclasses
import email
import email.message
import email.policy
import pathlib
import ssl
import threading
import time

import tlscerts
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from . import servers


@dataclasses.dataclass
class Login:
    user: str
    mechanism: str
    accepted: bool


class SMTPServer:
    def __init__(self, directory: pathlib.Path, host: str, user: str, password: str):
        self.host, self.user, self.password = host, user, password
        self.messages: list[email.message.EmailMessage] = []
        self.logins: list[Login] = []
        self._arrived = threading.Condition()
        ca_pem, ca = tlscerts.make_ca("matrixk8s realserver SMTP CA")
        cert_pem, key_pem = tlscerts.make_leaf(ca, [host])
        self.ca_file = servers.write_file(directory / "smtp-ca.crt", ca_pem.decode())
        cert_file = servers.write_file(directory / "smtp.crt", cert_pem.decode())
        key_file = servers.write_file(directory / "smtp.key", key_pem.decode(), mode=0o600)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        self.port = servers.free_port()
        self._controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            server_hostname=host,
            tls_context=context,
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=self._authenticate,
        )

    # aiosmtpd's authenticator and handler hooks
    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        accepted = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.user
            and auth_data.password.decode() == self.password
        )
        login = auth_data.login.decode(errors="replace") if isinstance(auth_data, LoginPassword) else "?"
        self.logins.append(Login(login, mechanism, accepted))
        # handled=False: aiosmtpd answers the refusal itself (535), as a real server does.
        return AuthResult(success=accepted, handled=False)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    # the test's side
    def start(self) -> SMTPServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def wait_for_message(self, to: str, after: int = 0, timeout: float = 30) -> email.message.EmailMessage:
        """The first message to `to` among those that arrived after the first `after`."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for message in self.messages[after:]:
                    if to in message["To"]:
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no mail to {to} within {timeout} s; logins: {self.logins}")
                self._arrived.wait(left)
