from pathlib import Path

import pytest

from ticketing.config import ConfigError, config_from_dict, load_config, secret

ROOT = Path(__file__).resolve().parents[2]


def minimal(**sections):
    data = {"mailbox": {"backend": "maildir", "path": str(ROOT / "examples/inbox")}, "support": {"address": "support@example.com"}}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return data


def problem_keys(exc: ConfigError) -> list[str]:
    return [p.key for p in exc.problems]


def test_the_example_config_is_valid_and_resolves_paths_against_its_folder():
    config = load_config(ROOT / "config.example.toml")
    assert config.mailbox.backend == "maildir"
    assert config.resolve(config.mailbox.path) == ROOT / "examples/inbox"
    assert config.database_url() == f"sqlite:///{ROOT / 'whiteglove.db'}"
    assert config.outgoing.backend == "directory"


def test_an_unknown_key_is_an_error_that_names_the_key():
    with pytest.raises(ConfigError) as info:
        config_from_dict(minimal(mailbox={"hots": "imap.example.com"}))
    assert problem_keys(info.value) == ["mailbox.hots"]
    assert "unknown key" in str(info.value) and "host" in info.value.problems[0].fix


def test_an_unknown_section_is_an_error():
    with pytest.raises(ConfigError) as info:
        config_from_dict(minimal(mailbx={}))
    assert problem_keys(info.value) == ["mailbx"]


def test_every_problem_is_reported_at_once():
    data = minimal(mailbox={"backend": "imap", "poll_seconds": "often"}, support={"address": "nobody"})
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    assert set(problem_keys(info.value)) == {"mailbox.poll_seconds", "mailbox.host", "support.address"}


def test_the_ews_backend_needs_its_server_and_service_account():
    with pytest.raises(ConfigError) as info:
        config_from_dict(minimal(mailbox={"backend": "ews"}, outgoing={"backend": "ews"}))
    assert problem_keys(info.value) == ["ews.url", "ews.username", "ews.password_env"]
    config = config_from_dict(minimal(mailbox={"backend": "ews"}, ews={
        "url": "https://mail.contoso.com/EWS/Exchange.asmx", "username": "CONTOSO\\svc-wg", "password_env": "PW"}))
    assert (config.ews.auth, config.ews.mailbox) == ("ntlm", None)


def test_a_password_sent_in_plain_text_to_a_remote_host_is_refused():
    imap = {"backend": "imap", "host": "imap.example.com", "security": "none", "username": "u", "password_env": "PW"}
    with pytest.raises(ConfigError) as info:
        config_from_dict(minimal(mailbox=imap))
    assert problem_keys(info.value) == ["mailbox.security"]
    loopback = dict(imap, host="127.0.0.1")
    assert config_from_dict(minimal(mailbox=loopback)).mailbox.security == "none"


def test_a_username_without_a_password_variable_is_an_error():
    with pytest.raises(ConfigError) as info:
        config_from_dict(minimal(mailbox={"backend": "imap", "host": "imap.example.com", "username": "u"}))
    assert problem_keys(info.value) == ["mailbox.password_env"]


def test_tls_is_the_default_for_imap():
    config = config_from_dict(minimal(mailbox={"backend": "imap", "host": "imap.example.com", "username": "u", "password_env": "PW"}))
    assert config.mailbox.security == "tls"


def test_secrets_come_from_the_named_environment_variable(monkeypatch):
    monkeypatch.setenv("WG_TEST_SECRET", "s3cret")
    assert secret("WG_TEST_SECRET", "mailbox.password_env") == "s3cret"
    monkeypatch.delenv("WG_TEST_SECRET")
    with pytest.raises(ConfigError) as info:
        secret("WG_TEST_SECRET", "mailbox.password_env")
    assert "WG_TEST_SECRET" in str(info.value) and "s3cret" not in str(info.value)


def test_a_missing_file_and_bad_toml_are_config_errors(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml")
    assert "no configuration file" in str(info.value)
    bad = tmp_path / "bad.toml"
    bad.write_text("[mailbox\nbackend = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert "not valid TOML" in str(info.value)


IMAP = {"backend": "imap", "host": "outlook.office365.com", "username": "support@contoso.com"}
SMTP = {"backend": "smtp", "host": "smtp.office365.com", "username": "support@contoso.com"}


def test_oauth2_microsoft_needs_the_app_and_exactly_one_credential():
    with pytest.raises(ConfigError) as info:
        config_from_dict(minimal(mailbox={**IMAP, "auth": "oauth2-microsoft"}))
    assert set(problem_keys(info.value)) == {"microsoft.tenant_id", "microsoft.client_id", "microsoft"}
    config = config_from_dict(minimal(
        mailbox={**IMAP, "auth": "oauth2-microsoft"}, outgoing={**SMTP, "auth": "oauth2-microsoft"},
        microsoft={"tenant_id": "t", "client_id": "c", "client_secret_env": "WG_SECRET"}))
    assert (config.mailbox.auth, config.outgoing.auth, config.microsoft.authority) == (
        "oauth2-microsoft", "oauth2-microsoft", "https://login.microsoftonline.com")


def test_a_certificate_needs_its_thumbprint_and_a_password_is_refused_with_tokens():
    with pytest.raises(ConfigError) as info:
        config_from_dict(minimal(mailbox={**IMAP, "auth": "oauth2-microsoft", "password_env": "PW"},
                                 microsoft={"tenant_id": "t", "client_id": "c", "certificate_file": "app-key.pem"}))
    assert set(problem_keys(info.value)) == {"microsoft.certificate_thumbprint", "mailbox.password_env"}


def test_oauth2_google_needs_the_key_files_variable_and_a_mailbox_address():
    with pytest.raises(ConfigError) as info:
        config_from_dict(minimal(mailbox={**IMAP, "auth": "oauth2-google", "username": "support"}))
    assert set(problem_keys(info.value)) == {"mailbox.username", "google.service_account_file_env"}
    with pytest.raises(ConfigError) as info:
        config_from_dict(minimal(mailbox={**IMAP, "auth": "kerberos"}))
    assert problem_keys(info.value) == ["mailbox.auth"]
