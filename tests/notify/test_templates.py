"""Which template serves a guest, and how it speaks: their language, the property's clock."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from doorcode.domain.messages import ChannelName, MessagePurpose
from doorcode.notify.templates import (
    ChosenTemplate,
    TemplateParts,
    builtin_template,
    choose_template,
    render_message,
)
from doorcode.notify.variables import MessageFacts, canonical_locale, locale_chain
from doorcode.services.errors import InvalidRequest
from doorcode.services.message_templates import TemplateKey, list_templates, save_template
from tests.builders import make_owner

INSTRUCTIONS = MessagePurpose.CHECK_IN_INSTRUCTIONS


def facts(**changes) -> MessageFacts:
    values = {
        "purpose": INSTRUCTIONS,
        "guest_name": "Ada Lovelace",
        "guest_locale": None,
        "property_name": "Brooklyn Loft",
        "property_address": "1 Water St",
        "time_zone": "America/New_York",
        "starts_at": datetime(2026, 12, 4, 20, tzinfo=UTC),  # 15:00 in New York
        "ends_at": datetime(2026, 12, 7, 16, tzinfo=UTC),  # 11:00 in New York
        "code": "482913",
        "lock_names": ("Lobby", "Unit 4"),
        "guidebook_url": "https://stay.example/guide/token-ada",
        "host_name": "Sam",
        "host_email": None,
        "host_phone": "+1 555 0100",
        "reference": "B-1",
        "guests": 2,
    }
    return MessageFacts(**{**values, **changes})


def rendered_text(chosen_locale: str, guest_locale: str | None, text: str) -> str:
    chosen = ChosenTemplate(TemplateParts(text=text), chosen_locale, "account")
    return render_message(chosen, ChannelName.SMS, facts(guest_locale=guest_locale)).text


def test_times_are_on_the_property_clock_in_the_guest_format():
    text = "{{ check_in }} | {{ check_in.time }} | {{ check_out.date }}"
    assert rendered_text("en", None, text) == (
        "Friday, December 4, 2026, 3:00 PM | 3:00 PM | Monday, December 7, 2026"
    )
    assert rendered_text("en", "en-GB", text) == (
        "Friday, 4 December 2026, 15:00 | 15:00 | Monday, 7 December 2026"
    )
    assert rendered_text("fr", "fr-CA", "{{ check_in }}") == "vendredi 4 décembre 2026, 15 h 00"


@pytest.mark.parametrize(
    ("name", "greeted"),
    [
        ("Ada Lovelace", "Hello Ada,"),
        ("The Schmidt family", "Hello The Schmidt family,"),
        ("Familie Müller", "Hello Familie Müller,"),
        ("Dr. Ruth Weiss", "Hello Dr. Ruth Weiss,"),
        ("", "Hello there,"),
    ],
)
def test_the_greeting_takes_a_given_name_never_an_article_or_a_title(name, greeted):
    chosen = ChosenTemplate(
        TemplateParts(text='Hello {{ guest.first_name|default("there", true) }},'), "en", "x"
    )
    assert render_message(chosen, ChannelName.SMS, facts(guest_name=name)).text == greeted


def test_a_guest_whose_language_has_no_template_reads_dates_in_the_template_language():
    assert rendered_text("en", "ja", "{{ check_in.date }}") == "Friday, December 4, 2026"


def test_all_access_codes_lists_every_lock_and_its_code():
    text = (
        "{{ all_access_codes }}\n"
        "{% for a in all_access_codes %}{{ a.lock }}={{ a.code }} {% endfor %}"
    )
    assert (
        rendered_text("en", None, text)
        == "Lobby: 482913\nUnit 4: 482913\nLobby=482913 Unit 4=482913"
    )


def test_whatsapp_parameters_have_no_line_breaks_and_are_never_empty():
    parts = TemplateParts(text="{{ all_access_codes }}\n{{ host.email }}", provider_template="t")
    chosen = ChosenTemplate(parts, "pt-BR", "account")
    rendered = render_message(chosen, ChannelName.WHATSAPP, facts())
    assert rendered.parameters == ("Lobby: 482913; Unit 4: 482913", "-")
    assert rendered.language == "pt_BR"


def test_the_console_speaks_with_the_email_wording_without_html():
    chosen = ChosenTemplate(builtin_template(INSTRUCTIONS, ChannelName.EMAIL), "en", "built-in")
    rendered = render_message(chosen, ChannelName.CONSOLE, facts())
    assert rendered.subject == "Your door code for Brooklyn Loft"
    assert "482913" in rendered.text
    assert rendered.html == ""


def test_a_rendered_message_never_shows_its_code_in_a_repr():
    rendered = render_message(
        ChosenTemplate(builtin_template(INSTRUCTIONS, ChannelName.SMS), "en", "built-in"),
        ChannelName.SMS,
        facts(),
    )
    assert "482913" in rendered.text
    assert "482913" not in repr(rendered)
    assert "482913" not in repr(facts())


def saved(id_, property_id, locale, channel="sms"):
    return SimpleNamespace(
        id=id_,
        property_id=property_id,
        purpose=INSTRUCTIONS.value,
        channel=channel,
        locale=locale,
        subject="",
        html="",
        text=id_,
        provider_template="",
    )


@pytest.mark.parametrize(
    ("available", "expected"),
    [
        (["prop-pt-BR", "acct-pt-BR", "prop-pt", "acct-pt", "prop-en", "acct-en"], "prop-pt-BR"),
        (["acct-pt-BR", "prop-pt", "acct-pt", "prop-en", "acct-en"], "acct-pt-BR"),
        (["prop-pt", "acct-pt", "prop-en", "acct-en"], "prop-pt"),
        (["acct-pt", "prop-en", "acct-en"], "acct-pt"),
        (["prop-en", "acct-en"], "prop-en"),
        (["acct-en", "other-pt-BR"], "acct-en"),
        (["other-pt-BR"], None),
    ],
)
def test_language_comes_first_then_property_over_account_then_built_in(available, expected):
    owners = {"prop": "prp_1", "acct": None, "other": "prp_2"}
    rows = [saved(name, owners[name.split("-")[0]], name.split("-", 1)[1]) for name in available]
    chain = locale_chain("pt_br")
    chosen = choose_template(rows, "prp_1", INSTRUCTIONS, ChannelName.SMS, chain)
    assert chosen.template_id == expected
    if expected is None:
        assert (chosen.source, chosen.locale) == ("built-in", "en")


def test_locales_are_canonical_and_unknown_ones_refused():
    assert canonical_locale("pt_br") == "pt-BR"
    assert canonical_locale("zh-hant-tw") == "zh-Hant-TW"
    assert locale_chain("zh-Hant-TW") == ("zh-Hant-TW", "zh-Hant", "zh", "en")
    assert locale_chain("klingon") == ("en",)
    with pytest.raises(InvalidRequest, match="unknown locale"):
        canonical_locale("xx-YY")


def test_a_whatsapp_template_name_is_stored_as_it_was_checked_without_spaces(any_runtime):
    owner = make_owner(any_runtime)
    key = TemplateKey(INSTRUCTIONS, ChannelName.WHATSAPP, "en")
    parts = TemplateParts(text="{{ guest.name }}\n{{ code }}", provider_template="  stay_code \n")
    saved = save_template(any_runtime.uow(), owner, key, parts)
    assert saved.provider_template == "stay_code"
    [stored] = list_templates(any_runtime.uow(), owner)
    assert stored.provider_template == "stay_code"
