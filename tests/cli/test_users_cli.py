"""``doorcode user``: creating dashboard users from a terminal or a script."""

from typer.testing import CliRunner

from doorcode.cli.main import app


def test_a_user_is_created_with_a_prompted_password_and_listed(doorcode, terminal):
    doorcode("org", "add", "acme")
    answer = CliRunner().invoke(
        app,
        ["user", "create", "ada", "--role", "owner"],
        input="correct horse battery staple\ncorrect horse battery staple\n",
    )
    assert answer.exit_code == 0, answer.output
    assert "created owner ada" in answer.output
    listed = doorcode("user", "list").output
    assert "ada" in listed
    assert "owner" in listed
    assert "correct horse" not in listed


def test_scripts_pass_the_password_in_the_environment(doorcode, monkeypatch):
    doorcode("org", "add", "acme")
    monkeypatch.setenv("DOORCODE_USER_PASSWORD", "a long enough passphrase")
    assert "created viewer bob" in doorcode("user", "create", "bob", "--role", "viewer").output
    assert "created manager carol" in doorcode("user", "create", "carol").output
    doorcode("user", "create", "carol", expect=1)


def test_weak_passwords_and_bad_usernames_are_refused_with_the_reason(doorcode, monkeypatch):
    doorcode("org", "add", "acme")
    monkeypatch.setenv("DOORCODE_USER_PASSWORD", "short")
    refused = doorcode("user", "create", "ada", expect=1)
    assert "the password is refused: it must be at least 12 characters long" in refused.output
    monkeypatch.setenv("DOORCODE_USER_PASSWORD", "ada is my password")
    assert "must not contain the username" in doorcode("user", "create", "ada", expect=1).output
    monkeypatch.setenv("DOORCODE_USER_PASSWORD", "a long enough passphrase")
    assert "a username is" in doorcode("user", "create", "Ada Lovelace!", expect=1).output


def test_users_are_disabled_and_enabled_by_name(doorcode, monkeypatch):
    doorcode("org", "add", "acme")
    monkeypatch.setenv("DOORCODE_USER_PASSWORD", "a long enough passphrase")
    doorcode("user", "create", "ada")
    assert doorcode("user", "disable", "ada").output.strip() == "disabled ada"
    assert "yes" in doorcode("user", "list").output
    doorcode("user", "enable", "ghost", expect=1)
