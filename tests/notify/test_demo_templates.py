"""The demo's Portuguese wording says everything the English one does."""

import pytest

from doorcode.demo_world import PORTUGUESE_HTML, PORTUGUESE_TEXT
from doorcode.notify.sandbox import render_source, sandbox

CONTEXT = {
    "guest": {"first_name": "Inês"},
    "property": {"name": "Flat 1A", "address": "Rua Augusta 100"},
    "check_in": "24/11/2026 15:00",
    "check_out": "27/11/2026 11:00",
    "code": "482913",
    "all_access_codes": [],
    "guidebook_url": "https://demo.example/guide/x",
    "host": {"name": "Marta", "phone": "+351 210 000 000", "email": "hello@demo.example"},
}


@pytest.mark.parametrize(("source", "html"), [(PORTUGUESE_TEXT, False), (PORTUGUESE_HTML, True)])
def test_the_portuguese_template_keeps_the_host_contact_line(source, html):
    rendered = render_source(source, sandbox(html=html), CONTEXT)
    assert "Dúvidas? Contacte Marta pelo +351 210 000 000 ou em" in rendered
    assert "hello@demo.example" in rendered
