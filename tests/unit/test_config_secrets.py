"""Secrets come from an environment variable or a file (systemd's $CREDENTIALS_DIRECTORY first), one
of the two, and a problem names the key and the variable or file, never the secret."""
import os

import pytest
from support.configs import minimal

from ticketing.config import (
    CLIENT_SECRET,
    EWS_PASSWORD,
    GOOGLE_KEY,
    MAILBOX_PASSWORD,
    OUTGOING_PASSWORD,
    ConfigError,
    config_from_dict,
    read_secret,
    secret_problems,
    secrets_in_use,
)

IMAP = {"backend": "imap", "host": "imap.example.com", "username": "support@example.com"}
SMTP = {"backend": "smtp", "host": "smtp.example.com", "username": "support@example.com"}


@pytest.fixture(autouse=True)
def no_credentials_directory(monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)


def imap_config(tmp_path, **password):
    return config_from_dict(minimal(mailbox={**IMAP, **password}), base_dir=tmp_path)


def only_problem(call):
    with pytest.raises(ConfigError) as info:
        call()
    [problem] = info.value.problems
    return problem


def test_a_password_comes_from_the_named_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("WG_TEST_IMAP", "s3cret")
    assert read_secret(imap_config(tmp_path, password_env="WG_TEST_IMAP"), MAILBOX_PASSWORD) == "s3cret"


def test_a_password_file_is_read_without_its_trailing_newline(tmp_path):
    (tmp_path / "imap.pw").write_text("s3cret \n")
    assert read_secret(imap_config(tmp_path, password_file="imap.pw"), MAILBOX_PASSWORD) == "s3cret "
    (tmp_path / "crlf.pw").write_bytes(b"s3cret\r\n")
    assert read_secret(imap_config(tmp_path, password_file=str(tmp_path / "crlf.pw")), MAILBOX_PASSWORD) == "s3cret"


def test_a_relative_file_is_looked_up_in_the_credentials_directory_first(tmp_path, monkeypatch):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "imap.pw").write_text("from-systemd\n")
    (tmp_path / "imap.pw").write_text("beside-the-config\n")
    (tmp_path / "other.pw").write_text("only-beside-the-config\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    assert read_secret(imap_config(tmp_path, password_file="imap.pw"), MAILBOX_PASSWORD) == "from-systemd"
    assert read_secret(imap_config(tmp_path, password_file="other.pw"), MAILBOX_PASSWORD) == "only-beside-the-config"


def test_giving_both_the_variable_and_the_file_is_a_config_error(tmp_path):
    problem = only_problem(lambda: imap_config(tmp_path, password_env="WG_TEST_IMAP", password_file="imap.pw"))
    assert problem.key == "mailbox.password_file"
    assert problem.message == "password_env and password_file are both given"


def test_each_secret_has_a_file_form_and_refuses_both(tmp_path):
    data = minimal(
        mailbox={"backend": "ews"}, outgoing={**SMTP, "password_env": "A", "password_file": "a"},
        ews={"url": "https://mail.example.com/EWS/Exchange.asmx", "username": "svc", "password_env": "B", "password_file": "b"},
        microsoft={"client_secret_env": "C", "client_secret_file": "c"}, google={"service_account_file_env": "D", "service_account_file": "d"})
    with pytest.raises(ConfigError) as info:
        config_from_dict(data, base_dir=tmp_path)
    both = {p.key for p in info.value.problems if "both given" in p.message}
    assert both == {"outgoing.password_file", "ews.password_file", "microsoft.client_secret_file", "google.service_account_file"}


def test_a_missing_file_is_one_problem_naming_the_key_and_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "credentials"))
    problem = only_problem(lambda: read_secret(imap_config(tmp_path, password_file="imap.pw"), MAILBOX_PASSWORD))
    assert problem.key == "mailbox.password_file"
    assert str(tmp_path / "imap.pw") in problem.message and "$CREDENTIALS_DIRECTORY" in problem.message
    assert "\n" not in str(problem)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_says_so_and_never_shows_the_secret(tmp_path):
    secret = tmp_path / "imap.pw"
    secret.write_text("s3cret\n")
    secret.chmod(0)
    problem = only_problem(lambda: read_secret(imap_config(tmp_path, password_file=str(secret)), MAILBOX_PASSWORD))
    assert "permission denied" in problem.message and "s3cret" not in str(problem)


def test_an_empty_file_is_refused(tmp_path):
    (tmp_path / "imap.pw").write_text("\n")
    problem = only_problem(lambda: read_secret(imap_config(tmp_path, password_file="imap.pw"), MAILBOX_PASSWORD))
    assert problem.message.endswith("is empty")


def test_an_unset_variable_names_the_variable_and_the_file_form(tmp_path):
    problem = only_problem(lambda: read_secret(imap_config(tmp_path, password_env="WG_TEST_UNSET"), MAILBOX_PASSWORD))
    assert (problem.key, problem.message) == ("mailbox.password_env", "the environment variable WG_TEST_UNSET is not set")
    assert "password_file" in problem.fix


def test_googles_key_file_is_handed_over_by_its_path_once_readable(tmp_path):
    (tmp_path / "sa.json").write_text("{}")
    config = config_from_dict(minimal(mailbox={**IMAP, "auth": "oauth2-google"}, google={"service_account_file": "sa.json"}),
                              base_dir=tmp_path)
    assert read_secret(config, GOOGLE_KEY) == str(tmp_path / "sa.json")


def test_only_the_secrets_the_worker_reads_are_in_use(tmp_path):
    assert secrets_in_use(config_from_dict(minimal(), base_dir=tmp_path)) == []
    config = config_from_dict(minimal(mailbox={**IMAP, "password_env": "A"}, outgoing={**SMTP, "password_file": "b"}),
                              base_dir=tmp_path)
    assert secrets_in_use(config) == [MAILBOX_PASSWORD, OUTGOING_PASSWORD]
    ms = {"tenant_id": "t", "client_id": "c", "client_secret_file": "c.txt"}
    config = config_from_dict(minimal(mailbox={**IMAP, "auth": "oauth2-microsoft"}, microsoft=ms, onboarding={"freebusy": "ews"},
                                      ews={"url": "https://mail.example.com/EWS/Exchange.asmx", "username": "svc", "password_env": "E"}),
                              base_dir=tmp_path)
    assert secrets_in_use(config) == [CLIENT_SECRET, EWS_PASSWORD]


def test_every_unreadable_secret_in_use_is_one_problem(tmp_path, monkeypatch):
    monkeypatch.delenv("WG_TEST_UNSET", raising=False)
    config = config_from_dict(minimal(mailbox={**IMAP, "password_env": "WG_TEST_UNSET"}, outgoing={**SMTP, "password_file": "gone"}),
                              base_dir=tmp_path)
    assert [p.key for p in secret_problems(config)] == ["mailbox.password_env", "outgoing.password_file"]
