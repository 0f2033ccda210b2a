"""Templates are refused before they ever run unless every construct is allowed; the sandbox
stands behind that check anyway."""

import jinja2
import pytest

from doorcode.domain.messages import ChannelName, MessagePurpose
from doorcode.notify.errors import InvalidTemplate
from doorcode.notify.sandbox import TemplateRenderError, render_source, sandbox
from doorcode.notify.templates import (
    TEMPLATE_CHANNELS,
    TemplateParts,
    builtin_template,
    template_problems,
    validate_template,
)


def sms(text: str) -> TemplateParts:
    return TemplateParts(text=text)


def problems(text: str) -> list[tuple[int | None, str]]:
    return [(p.line, p.reason) for p in template_problems(ChannelName.SMS, sms(text))]


ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ guest.__class__.__init__.__globals__ }}",
    "{{ guest|attr('__class__') }}",
    "{{ guest['__class__'] }}",
    "{{ guest['__cla' ~ 'ss__'] }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ self._TemplateReference__context }}",
    "{{ range.__self__ }}",
    "{{ namespace.__init__ }}",
    "{{ config.items() }}",
    "{{ request.application }}",
    "{{ '{0.__class__}'.format(guest) }}",
    "{{ guest.name.format(guest) }}",
    "{{ '%s'|format(guest) }}",
    "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{% set x = guest.__class__ %}{{ x }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% from 'x' import y %}",
    "{% extends 'base.html' %}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{% autoescape false %}{{ guest.name }}{% endautoescape %}",
    "{{ 'a' * 999999999 }}",
    "{{ 9 ** 999999 }}",
    "{% for a in all_access_codes %}{% for b in all_access_codes %}"
    "{% for c in all_access_codes %}{{ c }}{% endfor %}{% endfor %}{% endfor %}",
    "{% for c in guest.name %}{{ c }}{% endfor %}",
    "{{ all_access_codes|map(attribute='__class__')|list }}",
    "{{ all_access_codes|sort(attribute='lock.__class__') }}",
    "{{ guest.name|safe }}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_an_attempt_to_leave_the_sandbox_is_refused_with_a_reason(source):
    found = problems(f"Hello\n{source}")
    assert found, source
    assert all(line == 2 for line, _reason in found), found


@pytest.mark.parametrize("source", ESCAPES)
def test_a_refused_template_is_never_compiled_or_run(source, monkeypatch):
    def must_not_run(*_args, **_kwargs):
        raise AssertionError("a refused template reached the template engine")

    monkeypatch.setattr(jinja2.Environment, "from_string", must_not_run)
    monkeypatch.setattr(jinja2.Environment, "compile", must_not_run)
    with pytest.raises(InvalidTemplate):
        validate_template(ChannelName.SMS, sms(source))


def test_a_syntax_error_names_its_line():
    assert problems("Hello {{ guest.name }}\n\n{% if code %}\n{{ code }") == [(4, "unexpected '}'")]


def test_an_unknown_variable_names_its_line_and_what_is_known():
    [(line, reason)] = problems("Hi {{ guest.name }},\nyour code is {{ guest.code }}")
    assert line == 2
    assert reason == "unknown variable guest.code (known: first_name, locale, name)"


def test_a_typo_in_a_top_level_name_is_refused():
    [(line, reason)] = problems("{{ chek_in }}")
    assert line == 1
    assert reason.startswith("unknown variable 'chek_in' (known: all_access_codes, check_in,")


def test_every_documented_variable_is_accepted():
    source = (
        "{{ purpose }} {{ guest.name }} {{ guest.first_name }} {{ guest.locale }} "
        "{{ property.name }} {{ property.address }} {{ property.time_zone }} "
        "{{ check_in }} {{ check_in.date }} {{ check_in.time }} {{ check_in.iso }} "
        "{{ check_out }} {{ nights }} {{ code }} {{ all_access_codes }} "
        "{% for a in all_access_codes|sort(attribute='lock') %}{{ loop.index }} {{ a }} "
        "{{ a.lock }} {{ a.code }} {{ a.valid_from.time }} {{ a.valid_until }}{% endfor %}"
        "{{ all_access_codes[0].code }} {{ (all_access_codes|first).lock }} "
        "{{ guidebook_url }} {{ host.name }} {{ host.email }} {{ host.phone }} "
        "{{ reservation.reference }} {{ reservation.guests }} "
        "{{ guest.first_name|default('there', true)|upper }} {{ nights + 1 }}"
        "{% if host.phone and nights > 2 %}x{% elif guest.locale is defined %}y{% endif %}"
        "{% filter upper %}{{ property.name }}{% endfilter %}"
    )
    assert problems(source) == []


@pytest.mark.parametrize("purpose", list(MessagePurpose))
@pytest.mark.parametrize("channel", TEMPLATE_CHANNELS)
def test_the_built_in_templates_pass_their_own_checks(purpose, channel):
    assert template_problems(channel, builtin_template(purpose, channel)) == []


def test_a_template_gets_the_parts_its_channel_needs():
    found = template_problems(ChannelName.EMAIL, TemplateParts(text="Hi", provider_template="x"))
    reasons = {(p.part, p.reason) for p in found}
    assert ("subject", "is required for this channel") in reasons
    assert ("html", "is required for this channel") in reasons
    assert ("provider_template", "is not used by email messages") in reasons
    assert template_problems(ChannelName.CONSOLE, TemplateParts(text="Hi"))


def test_a_subject_is_one_line_and_a_whatsapp_template_name_is_metas():
    email = TemplateParts(subject="Hi\nthere", html="<p>x</p>", text="x")
    assert ("subject", "must be one line") in {
        (p.part, p.reason) for p in template_problems(ChannelName.EMAIL, email)
    }
    whatsapp = TemplateParts(text="{{ guest.name }}", provider_template="Check In!")
    assert [p.part for p in template_problems(ChannelName.WHATSAPP, whatsapp)] == [
        "provider_template"
    ]


def test_whatsapp_parameter_lines_keep_their_line_numbers():
    parts = TemplateParts(text="{{ guest.name }}\n\n{{ guest.nmae }}", provider_template="t")
    [problem] = template_problems(ChannelName.WHATSAPP, parts)
    assert (problem.part, problem.line) == ("text", 3)


def test_the_sandbox_refuses_internals_even_for_a_template_that_skipped_the_check():
    with pytest.raises(TemplateRenderError, match="refused by the sandbox"):
        render_source("{{ ''.__class__.__mro__ }}", sandbox(html=False), {})


def test_rendering_stops_at_the_output_cap():
    source = "{% for a in codes %}{% for b in codes %}{{ a }}{% endfor %}{% endfor %}"
    codes = ["x" * 1000] * 20  # 400,000 characters if nothing stopped it
    with pytest.raises(TemplateRenderError, match="longer than 100,000 characters"):
        render_source(source, sandbox(html=False), {"codes": codes})


def test_a_filter_cannot_blow_a_value_up():
    context = {"name": "a b " * 100, "long": "x" * 5000}
    with pytest.raises(TemplateRenderError, match="more than 10,000 characters"):
        render_source("{{ name|wordwrap(1, true, long) }}", sandbox(html=False), context)


def test_html_is_escaped_and_text_is_not():
    context = {"name": "<script>alert(1)</script> & co"}
    assert render_source("{{ name }}", sandbox(html=True), context) == (
        "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
    )
    assert render_source("{{ name }}", sandbox(html=False), context) == context["name"]


def test_a_missing_value_prints_as_nothing_not_none():
    assert render_source("[{{ phone }}]", sandbox(html=False), {"phone": None}) == "[]"
