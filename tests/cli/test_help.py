"""``--help`` of every command names values with words (PROPERTY, DATE, N), never Python types."""

import re

import click
import pytest
import typer
from typer.testing import CliRunner

from doorcode.cli.main import app

TYPE_PLACEHOLDER = re.compile(r"<[A-Za-z_ .\[\],]+>")
"""Typer's `<str>`, `<int>`, `<bool>`, `<int range>`, `<Path>`; a choice list has a bar."""
MARKUP = re.compile(r"\[/?(bold|italic|dim|red|green|yellow|blue|cyan|magenta|b|i|u|link)[^\]]*\]")


def every_command() -> list[list[str]]:
    """The path of every command and group, found by walking the tree as click sees it."""
    root = typer.main.get_command(app)
    found: list[list[str]] = []

    def walk(command: click.Command, path: list[str], parent: click.Context | None) -> None:
        found.append(path)
        context = click.Context(command, info_name=path[-1] if path else "doorcode", parent=parent)
        if isinstance(command, click.Group) or hasattr(command, "list_commands"):
            for name in command.list_commands(context):
                walk(command.get_command(context, name), [*path, name], context)

    walk(root, [], None)
    return found


COMMANDS = every_command()


def test_the_walk_reaches_leaf_commands_of_nested_groups():
    assert ["offline", "group", "provision"] in COMMANDS
    assert ["events"] in COMMANDS
    assert len(COMMANDS) > 80


@pytest.mark.parametrize("command", COMMANDS, ids=lambda path: " ".join(path) or "doorcode")
def test_help_names_values_with_words_and_shows_no_markup(command):
    result = CliRunner().invoke(app, [*command, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    shown = result.output
    assert "Usage: doorcode" in shown
    assert not TYPE_PLACEHOLDER.search(shown), shown
    assert not MARKUP.search(shown), shown
    assert "``" not in shown
    assert "--no-no-" not in shown  # a flag named for a negative, doubled by Typer
    assert "{" not in shown.splitlines()[0], shown  # Typer's "{name}" for a required argument


def test_values_carry_their_meaning():
    def help_of(*command):
        return CliRunner().invoke(app, [*command, "--help"], terminal_width=100).output

    assert "--check-in DATE" in help_of("reservation", "add")
    assert "--check-in-time HH:MM" in help_of("reservation", "add")
    assert "--from INSTANT" in help_of("grant", "add")
    assert "--limit N" in help_of("grant", "list")
    assert "--property PROPERTY" in help_of("grant", "list")
    assert "doorcode feed add [OPTIONS] PROPERTY URL" in help_of("feed", "add")
    assert "doorcode lock sync [OPTIONS] [LOCK]" in help_of("lock", "sync")
    assert "--except DATE" in help_of("schedule", "add")
    assert "--lock LOCK " in help_of("grant", "add")
    assert "--lock LOCK " in help_of("offline", "group", "add")


def test_provision_help_says_it_leaves_the_keys_one_export_alone():
    """README's order is export, then provision; a help saying provision spends the one
    export sent owners to skip the export their technician needs."""
    shown = CliRunner().invoke(app, ["offline", "group", "provision", "--help"]).output
    assert "uses the key's one export" not in shown
    assert "neither needs nor spends" in " ".join(shown.split())


REFERENCE = "id, external id or name"
EXPLAINED = {
    "schedule change": [
        "--property PROPERTY A property (id, external id or name)",
        "--on WEEKDAY A weekday (mon … sun)",
        "--from HH:MM Local start time",
        "--to HH:MM Local end time",
        "--first DATE First day",
        "--last DATE Last day",
        "--except DATE A day off",
    ],
    "lock codes": [f"LOCK The lock: {REFERENCE}."],
    "property link": [f"PROPERTY The property: {REFERENCE}.", f"LOCK The lock: {REFERENCE}."],
    "property unlink": [f"PROPERTY The property: {REFERENCE}.", f"LOCK The lock: {REFERENCE}."],
    "rules show": [f"PROPERTY The property: {REFERENCE}."],
    "rules set": [f"PROPERTY The property: {REFERENCE}."],
}


@pytest.mark.parametrize("command", EXPLAINED)
def test_arguments_and_options_say_what_they_take(command):
    """Each says what it takes, in the words the other commands use for the same thing."""
    result = CliRunner().invoke(app, [*command.split(), "--help"], terminal_width=100)
    shown = " ".join(result.output.split())
    for text in EXPLAINED[command]:
        assert text in shown, shown
