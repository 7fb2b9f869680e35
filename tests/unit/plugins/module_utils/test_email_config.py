"""email_config: synapse_email checked and written as Synapse 1.163's `email:` section.

Every error message is tested here; none may quote the password.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.matrixk8s.synapse.plugins.module_utils.email_config import (
    OPTIONS,
    TLS_MODES,
    EmailConfigError,
    email_password_reference,
    email_section,
)

PASSWORD = "s3cret-smtp-Pa55"
BASE = {"smtp_host": "smtp.example.com", "notif_from": "%(app)s <matrix@example.com>"}
AUTH = {**BASE, "smtp_user": "matrix", "smtp_pass_secret": {"secret": "smtp", "key": "password"}}


def section(**changes):
    return email_section({**BASE, **changes})


@pytest.mark.parametrize("off", [None, {}])
def test_no_email_is_an_empty_section(off):
    assert email_section(off) == {}
    assert email_password_reference(off) == {}


def test_the_defaults_are_starttls_on_587_with_notifications():
    assert section() == {
        "smtp_host": "smtp.example.com",
        "smtp_port": 587,
        "enable_tls": True,
        "require_transport_security": True,
        "force_tls": False,
        "notif_from": "%(app)s <matrix@example.com>",
        "enable_notifs": True,
    }


@pytest.mark.parametrize(
    ("mode", "enable_tls", "require", "force", "port"),
    [
        ("starttls", True, True, False, 587),
        ("tls", True, False, True, 465),
        ("none", False, False, False, 25),
    ],
)
def test_each_tls_mode_maps_to_synapses_options_and_port(mode, enable_tls, require, force, port):
    got = section(tls=mode)
    assert (got["enable_tls"], got["require_transport_security"], got["force_tls"], got["smtp_port"]) == (
        enable_tls,
        require,
        force,
        port,
    )
    # Synapse refuses force_tls or require_transport_security without enable_tls.
    assert got["enable_tls"] or not (got["force_tls"] or got["require_transport_security"])


def test_a_given_port_wins_over_the_modes_default():
    assert section(tls="tls", smtp_port=2465)["smtp_port"] == 2465
    assert section(smtp_port="2525")["smtp_port"] == 2525  # -e smtp_port=2525 is a string


def test_optional_options_pass_through():
    got = section(app_name="Example Chat", enable_notifs=False, client_base_url="https://chat.example.com/")
    assert got["app_name"] == "Example Chat"
    assert got["enable_notifs"] is False
    assert got["client_base_url"] == "https://chat.example.com"  # Synapse appends /#/room/...
    assert "client_base_url" not in section()  # unset: Synapse links matrix.to


def test_authentication_puts_the_user_and_the_password_given():
    got = email_section(AUTH, smtp_pass=PASSWORD)
    assert got["smtp_user"] == "matrix"
    assert got["smtp_pass"] == PASSWORD


def test_a_trailing_newline_of_the_secret_is_not_part_of_the_password():
    assert email_section(AUTH, smtp_pass=PASSWORD + "\n")["smtp_pass"] == PASSWORD
    assert email_section(AUTH, smtp_pass=PASSWORD + " ")["smtp_pass"] == PASSWORD + " "


def test_no_password_without_a_secret_even_if_one_is_passed():
    assert "smtp_pass" not in email_section(BASE, smtp_pass=PASSWORD)


def test_the_password_reference_defaults_its_key():
    assert email_password_reference(AUTH) == {"secret": "smtp", "key": "password"}
    assert email_password_reference({**BASE, "smtp_pass_secret": {"secret": "mail"}}) == {
        "secret": "mail",
        "key": "password",
    }
    assert email_password_reference(BASE) == {}


def test_an_ip_address_is_a_host():
    assert section(smtp_host="192.0.2.25")["smtp_host"] == "192.0.2.25"
    assert section(smtp_host="::1")["smtp_host"] == "::1"


# --- every error ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "message"),
    [
        (["smtp.example.com"], r"^synapse_email must be a mapping .*got list$"),
        (
            {**BASE, "smtp_hots": "x"},
            r"synapse_email has no option 'smtp_hots' \(did you mean synapse_email.smtp_host\?\)",
        ),
        ({**BASE, "colour": "x"}, r"synapse_email has no option 'colour'; the options are smtp_host, "),
        ({"notif_from": "a@example.com"}, r"^synapse_email.smtp_host is required"),
        ({**BASE, "smtp_host": "smtp://mail.example.com"}, r"^synapse_email.smtp_host must be a host name"),
        ({**BASE, "smtp_host": "mail.example.com:587"}, r"set synapse_email.smtp_port\), got 'mail"),
        ({**BASE, "tls": "ssl"}, r"^synapse_email.tls must be one of starttls, tls, none .*got 'ssl'$"),
        ({**BASE, "tls": True}, r"^synapse_email.tls must be one of starttls, tls, none"),
        ({**BASE, "smtp_port": 0}, r"^synapse_email.smtp_port must be a port number from 1 to 65535, got 0$"),
        ({**BASE, "smtp_port": 70000}, r"^synapse_email.smtp_port must be a port number"),
        ({**BASE, "smtp_port": True}, r"^synapse_email.smtp_port must be a port number"),
        ({**BASE, "smtp_port": "smtp"}, r"^synapse_email.smtp_port must be a port number"),
        ({"smtp_host": "smtp.example.com"}, r"^synapse_email.notif_from is required: .*%\(app\)s"),
        ({**BASE, "notif_from": ""}, r"^synapse_email.notif_from must be a non-empty string$"),
        ({**BASE, "notif_from": "Matrix"}, r"^synapse_email.notif_from must be an email address"),
        ({**BASE, "app_name": 5}, r"^synapse_email.app_name must be a non-empty string$"),
        ({**BASE, "enable_notifs": "yes"}, r"^synapse_email.enable_notifs must be true or false, got 'yes'$"),
        (
            {**BASE, "client_base_url": "chat.example.com"},
            r"^synapse_email.client_base_url must be the http\(s\) URL",
        ),
        (
            {**BASE, "smtp_user": "matrix"},
            r"^synapse_email.smtp_user is set but synapse_email.smtp_pass_secret is not",
        ),
        (
            {**BASE, "smtp_pass_secret": {"secret": "smtp"}},
            r"^synapse_email.smtp_pass_secret is set but synapse_email.smtp_user is not",
        ),
        ({**AUTH, "smtp_user": ""}, r"^synapse_email.smtp_user must be a non-empty string$"),
        (
            {**AUTH, "tls": "none"},
            r"^synapse_email.tls is none but synapse_email.smtp_user is set: .*unencrypted",
        ),
        (
            {**AUTH, "smtp_pass_secret": "smtp"},
            r"^synapse_email.smtp_pass_secret must be a mapping \{secret: ",
        ),
        (
            {**AUTH, "smtp_pass_secret": {"name": "smtp"}},
            r"^synapse_email.smtp_pass_secret has no option 'name'",
        ),
        (
            {**AUTH, "smtp_pass_secret": {"key": "p"}},
            r"^synapse_email.smtp_pass_secret.secret must name .*got None$",
        ),
        (
            {**AUTH, "smtp_pass_secret": {"secret": "Bad_Name"}},
            r"^synapse_email.smtp_pass_secret.secret must name an existing Secret",
        ),
        (
            {**AUTH, "smtp_pass_secret": {"secret": "smtp", "key": "a/b"}},
            r"^synapse_email.smtp_pass_secret.key must be a key of Secret smtp .*got 'a/b'$",
        ),
    ],
)
def test_each_mistake_is_named(email, message):
    with pytest.raises(EmailConfigError, match=message):
        email_section(email, smtp_pass=PASSWORD)


def test_a_password_in_the_inventory_is_refused_without_quoting_it():
    with pytest.raises(EmailConfigError) as caught:
        email_section({**BASE, "smtp_pass": PASSWORD})
    message = str(caught.value)
    assert message.startswith("synapse_email.smtp_pass: the SMTP password does not go into the inventory")
    assert "synapse_email.smtp_pass_secret" in message
    assert PASSWORD not in message


@pytest.mark.parametrize("password", [None, "", "\n", "  "])
def test_an_empty_password_secret_is_refused_naming_the_secret(password):
    with pytest.raises(
        EmailConfigError, match=r"^the SMTP password in Secret smtp \(key password\), named by "
    ):
        email_section(AUTH, smtp_pass=password)


def test_the_variable_name_is_the_callers():
    with pytest.raises(EmailConfigError, match=r"^matrix_email.tls must be one of"):
        email_section({**BASE, "tls": "ssl"}, name="matrix_email")


# Characters no message holds, so a hit can only be the password itself.
@given(
    password=st.text(alphabet="\u00b5\u00a7\u00a4\u00b6", min_size=4),
    mode=st.sampled_from(["starttls", "tls"]),
)
def test_no_message_quotes_the_password(password, mode):
    """Every error raised while the password is in hand: the message never holds it."""
    for broken in ({"smtp_port": 0}, {"notif_from": "x"}, {"enable_notifs": 1}, {"client_base_url": "x"}):
        with pytest.raises(EmailConfigError) as caught:
            email_section({**AUTH, "tls": mode, **broken}, smtp_pass=password)
        assert password not in str(caught.value)


def test_the_options_and_modes_are_what_the_docs_list():
    assert set(TLS_MODES) == {"starttls", "tls", "none"}
    assert "smtp_pass" not in OPTIONS
