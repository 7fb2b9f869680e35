"""Email: Synapse configured by the synapse role's synapse_email sends through a real SMTP server.

The roles render inventories/local with synapse_email pointing at an aiosmtpd server on
loopback (smtp.py: STARTTLS required, AUTH required, certificate from a private CA); the
SMTP password goes where the role's apply puts it (from the Secret it read). A Synapse of
its own (own PostgreSQL, ports and directories, as test_negative.py's) runs that render,
trusting the SMTP server's CA through SSL_CERT_FILE: Synapse checks the server's
certificate against the system trust store, which that variable replaces for OpenSSL.

- password reset: a user with a bound address asks for a reset; the mail arrives, its link
  (on public_baseurl) is followed and confirmed, the new password is set with the email
  identity, the new password logs in and the old one no longer does;
- a wrong SMTP password (the server now expects another one): the client is told the mail
  could not be sent, no mail arrives, and Synapse's log says why;
- no form of the SMTP password is in Synapse's log, and why that needs the chart's
  sitecustomize.py: Twisted's error for a refused login carries the AUTH exchange.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import html.parser
import json
import os
import pathlib
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import nio
import pytest

from . import artifacts as artifacts_module
from . import servers
from .pods import (
    free_ports_for,
    install_synapse,
    local_paths,
    materialise,
    postgres_init_dir,
    postgres_socket_dir,
    python_path,
)
from .remap import Config, pod_path_to_local, remap_for_loopback
from .smtp import SMTPServer

SMTP_HOST = "localhost"  # the name on the server's certificate; it resolves to 127.0.0.1
SMTP_USER = "synapse-mailer"
SMTP_SECRET = {"secret": "smtp-password", "key": "password"}
SENDER = "matrix@example.test"


@dataclasses.dataclass
class EmailSynapse:
    url: str
    config: dict  # the homeserver.yaml it runs (loopback)
    rendered: dict  # the homeserver.yaml the role rendered
    process: servers.Process
    smtp: SMTPServer
    smtp_password: str


@pytest.fixture(scope="module")
def email_synapse(workdir, users):
    base = workdir / "email"
    servers.make_dir(base)
    smtp_password = "smtp-" + secrets.token_urlsafe(18)
    smtp = SMTPServer(base, SMTP_HOST, SMTP_USER, smtp_password).start()
    try:
        artifacts = artifacts_module.from_offline_render(
            {
                "synapse_email": {
                    "smtp_host": SMTP_HOST,
                    "smtp_port": smtp.port,
                    "tls": "starttls",
                    "smtp_user": SMTP_USER,
                    "smtp_pass_secret": SMTP_SECRET,
                    "notif_from": f"%(app)s <{SENDER}>",
                    "app_name": "Example Chat",
                }
            },
            smtp_password=smtp_password,
        )
        rendered = Config.from_artifacts(artifacts)
        paths = local_paths(base, artifacts)
        config = remap_for_loopback(rendered, free_ports_for(rendered), paths)
        materialise("postgres", artifacts, paths, users["postgres"])
        database = servers.start_postgres(
            config.postgres_env,
            base / "postgres-run",
            users["postgres"],
            postgres_socket_dir(paths),
            postgres_init_dir(paths),
        )
        try:
            install_synapse(artifacts, config, paths)
            ports = {
                name: listener["port"]
                for listener in config.homeserver["listeners"]
                for resource in listener["resources"]
                for name in resource["names"]
            }
            home = pod_path_to_local(paths.synapse, "/tmp")
            process, _ = servers.start_synapse(
                config.synapse_command,
                base / "synapse.log",
                pathlib.Path(home),
                f"http://127.0.0.1:{ports['health']}/health",
                env={**python_path(artifacts, "synapse", paths), "SSL_CERT_FILE": str(smtp.ca_file)},
            )
            try:
                yield EmailSynapse(
                    f"http://127.0.0.1:{ports['client']}",
                    config.homeserver,
                    artifacts.homeserver,
                    process,
                    smtp,
                    smtp_password,
                )
            finally:
                process.stop()
        finally:
            database.process.stop()
    finally:
        smtp.stop()


# --- a small client ------------------------------------------------------------------------


def call(url, method="GET", body=None, token=None, form=None):
    """(status, decoded body) of one HTTP request; JSON bodies are parsed."""
    headers = {}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
            status, raw, kind = response.status, response.read(), response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        status, raw, kind = error.code, error.read(), error.headers.get_content_type()
    return status, (json.loads(raw or b"{}") if kind == "application/json" else raw.decode())


class HiddenInputs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields, self.method = {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.method = attrs.get("method")
        if tag == "input" and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs.get("value", "")


def login(url, user_id, password):
    async def attempt():
        client = nio.AsyncClient(url, user_id)
        try:
            return await client.login(password, device_name="realserver-email")
        finally:
            await client.close()

    return asyncio.run(attempt())


@pytest.fixture(scope="module")
def email_user(email_synapse):
    """A user with a bound email address, made by an admin through the admin API.

    The admin is registered with register_new_matrix_user and the shared secret, as the
    synapse role's Job does.
    """
    server_name = email_synapse.config["server_name"]
    admin, admin_password = "mailadmin", secrets.token_urlsafe(16)
    result = servers.run(
        [
            str(artifacts_module.VENV_BIN / "register_new_matrix_user"),
            "--config",
            str(email_synapse.process.argv[email_synapse.process.argv.index("-c") + 1]),
            "--user",
            admin,
            "--password",
            admin_password,
            "--admin",
            email_synapse.url,
        ],
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    session = login(email_synapse.url, f"@{admin}:{server_name}", admin_password)
    assert isinstance(session, nio.LoginResponse), session
    user_id, address = f"@alice:{server_name}", "alice@example.test"
    password = "old-" + secrets.token_urlsafe(12)
    status, answer = call(
        f"{email_synapse.url}/_synapse/admin/v2/users/{urllib.parse.quote(user_id)}",
        "PUT",
        {"password": password, "threepids": [{"medium": "email", "address": address}]},
        token=session.access_token,
    )
    assert status in (200, 201), answer
    assert {"medium": "email", "address": address} in [
        {"medium": t["medium"], "address": t["address"]} for t in answer["threepids"]
    ]
    return user_id, address, password


def request_reset(synapse, address, client_secret):
    return call(
        f"{synapse.url}/_matrix/client/v3/account/password/email/requestToken",
        "POST",
        {"client_secret": client_secret, "email": address, "send_attempt": 1},
    )


# --- the tests -----------------------------------------------------------------------------


def test_the_role_renders_the_email_section_synapse_runs(email_synapse):
    email = email_synapse.rendered["email"]
    assert email["smtp_host"] == SMTP_HOST
    assert email["smtp_port"] == email_synapse.smtp.port
    assert (email["enable_tls"], email["require_transport_security"], email["force_tls"]) == (
        True,
        True,
        False,
    )
    assert email["smtp_user"] == SMTP_USER
    assert email["enable_notifs"] is True
    assert email["smtp_pass"] == email_synapse.smtp_password
    # The remap leaves the email section as rendered.
    assert email_synapse.config["email"] == email


def test_a_password_reset_mail_arrives_and_its_link_sets_a_new_password(email_synapse, email_user):
    synapse, smtp = email_synapse, email_synapse.smtp
    user_id, address, old_password = email_user
    already = len(smtp.messages)
    client_secret = secrets.token_hex(16)
    status, answer = request_reset(synapse, address, client_secret)
    assert status == 200, answer
    sid = answer["sid"]

    mail = smtp.wait_for_message(address, after=already)
    assert mail["From"] == f"Example Chat <{SENDER}>"
    assert synapse.config["server_name"] in mail["Subject"]
    # It went over STARTTLS with the configured user (the server refuses anything else).
    assert smtp.logins[-1].user == SMTP_USER
    assert smtp.logins[-1].accepted
    text = mail.get_body(("plain",)).get_content()
    (link,) = set(re.findall(r"https?://\S+submit_token\?\S+", text))
    # The link is on public_baseurl, as the role sets it: https://<synapse_public_host>/.
    public = synapse.rendered["public_baseurl"]
    assert public == "https://matrix.example.test/"
    assert link.startswith(public + "_synapse/client/password_reset/email/submit_token?")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    assert query["sid"] == [sid]
    assert query["client_secret"] == [client_secret]

    # Following it: Synapse asks to confirm (a form), the confirmation validates the token.
    local_link = synapse.url + "/" + link[len(public) :]
    status, page = call(local_link)
    assert status == 200, page
    form = HiddenInputs()
    form.feed(page)
    assert form.method == "post"
    assert form.fields["sid"] == sid
    status, page = call(local_link, "POST", form=form.fields)
    assert status == 200, page
    assert "password" in page.lower()

    new_password = "new-" + secrets.token_urlsafe(12)
    status, answer = call(
        f"{synapse.url}/_matrix/client/v3/account/password",
        "POST",
        {
            "new_password": new_password,
            "logout_devices": True,
            "auth": {
                "type": "m.login.email.identity",
                "threepid_creds": {"sid": sid, "client_secret": client_secret},
            },
        },
    )
    assert status == 200, answer

    assert isinstance(login(synapse.url, user_id, new_password), nio.LoginResponse)
    refused = login(synapse.url, user_id, old_password)
    assert isinstance(refused, nio.LoginError), refused
    assert refused.status_code == "M_FORBIDDEN"


def test_a_wrong_smtp_password_fails_the_request_and_synapse_logs_why(email_synapse, email_user):
    synapse, smtp = email_synapse, email_synapse.smtp
    _, address, _ = email_user
    log_before = len(synapse.process.output())
    mails_before = len(smtp.messages)
    smtp.password = "rotated-" + secrets.token_urlsafe(12)  # Synapse still has the old one
    try:
        status, answer = request_reset(synapse, address, secrets.token_hex(16))
    finally:
        smtp.password = synapse.smtp_password
    # Synapse waits for the SMTP server and tells the client it could not send.
    assert status == 500, answer
    assert answer["error"] == "An error was encountered when sending the email"
    assert len(smtp.messages) == mails_before
    # Synapse logged in, as the configured user, and the server refused the password.
    assert (smtp.logins[-1].user, smtp.logins[-1].accepted) == (SMTP_USER, False)
    log = synapse.process.output()[log_before:]
    assert f"Error sending threepid validation email to {address}" in log, log[-3000:]
    assert "535" in log, log[-3000:]  # the server's "authentication failed"


def test_synapses_log_holds_no_smtp_password(email_synapse):
    """Not in clear, nor as the AUTH exchange puts it on the wire (base64)."""
    password = email_synapse.smtp_password.encode()
    forms = {
        "clear": password,
        "AUTH LOGIN": base64.b64encode(password),
        "AUTH PLAIN": base64.b64encode(SMTP_USER.encode() + b"\0" + SMTP_USER.encode() + b"\0" + password),
        "AUTH PLAIN, no authzid": base64.b64encode(b"\0" + SMTP_USER.encode() + b"\0" + password),
    }
    log = email_synapse.process.output()
    leaked = [name for name, form in forms.items() if form.decode() in log]
    assert not leaked, f"the SMTP password is in Synapse's log ({', '.join(leaked)})"


def test_without_synapse_email_the_render_has_no_email_section(rendered):
    assert "email" not in rendered.homeserver


# The mechanism, shown without a Synapse: Twisted's SMTP client, called as Synapse's
# _sendmail calls it, logs in with a wrong password; the error it raises (which Synapse logs
# at ERROR) carries the AUTH exchange, unless the chart's sitecustomize.py ran first.
SENDMAIL = """
import base64, io, sys
from twisted.internet import defer, reactor
from twisted.internet.endpoints import HostnameEndpoint
from twisted.mail.smtp import ESMTPSenderFactory

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
done = defer.Deferred()
factory = ESMTPSenderFactory(
    user.encode(), password.encode(), "matrix@example.test", "bob@example.test",
    io.BytesIO(b"Subject: x\\r\\n\\r\\nx"), done,
    heloFallback=True, requireAuthentication=True, requireTransportSecurity=True, hostname=host,
)
HostnameEndpoint(reactor, host, port, timeout=10).connect(factory).addErrback(done.errback)
outcome = []
done.addBoth(outcome.append).addBoth(lambda _: reactor.stop())
reactor.run()
print(str(outcome[0].value))
"""


@pytest.mark.parametrize("with_sitecustomize", [False, True])
def test_twisted_puts_the_auth_exchange_into_its_error_unless_the_chart_stops_it(
    email_synapse, artifacts, tmp_path, with_sitecustomize
):
    smtp = email_synapse.smtp
    wrong = "wrong-" + secrets.token_urlsafe(12)
    env = {**os.environ, "SSL_CERT_FILE": str(smtp.ca_file)}
    env.pop("PYTHONPATH", None)
    if with_sitecustomize:
        (name,) = [n for n, data in artifacts.config_maps.items() if "sitecustomize.py" in data]
        (tmp_path / "sitecustomize.py").write_text(artifacts.config_maps[name]["sitecustomize.py"])
        env["PYTHONPATH"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", SENDMAIL, SMTP_HOST, str(smtp.port), SMTP_USER, wrong],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    error = result.stdout
    assert error.startswith("535 5.7.8"), error  # the server's answer is kept either way
    in_base64 = base64.b64encode(wrong.encode()).decode()
    if with_sitecustomize:
        assert in_base64 not in error, error
        assert ">>>" not in error, error  # no line of what the client sent
    else:
        assert in_base64 in error, error  # the AUTH LOGIN line, as Synapse would log it
