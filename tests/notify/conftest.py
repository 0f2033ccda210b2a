"""Fixtures for the guest-message tests: SMTP servers, the fake provider cloud, channels."""

from __future__ import annotations

import httpx
import pytest

from doorcode.config import Settings
from doorcode.notify.channels import channels_from_settings
from tests.conftest import TEST_KEY
from tests.notify.servers import (
    SMTP_PASSWORD,
    SMTP_USER,
    TWILIO_SID,
    WHATSAPP_PHONE_ID,
    WHATSAPP_VERSION,
    FakeCloud,
    make_certificate,
    start_smtp,
)

TWILIO_TOKEN = "twilio-auth-token-never-logged"
WHATSAPP_TOKEN = "whatsapp-token-never-logged"


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp_server():
    server = start_smtp("none", None)
    yield server
    server.controller.stop()


@pytest.fixture
def cloud():
    fake = FakeCloud()
    yield fake
    fake.close()
    assert not fake.problems, fake.problems


def channel_settings(smtp_port: int, cloud_url: str, tmp_path, **extra) -> Settings:
    return Settings(
        database_url="sqlite://",
        secret_key=TEST_KEY,
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_security="none",
        smtp_from="Demo Rentals <stays@demo-rentals.example>",
        twilio_account_sid=TWILIO_SID,
        twilio_auth_token=TWILIO_TOKEN,
        twilio_from="+15557122661",
        twilio_base_url=cloud_url,
        whatsapp_token=WHATSAPP_TOKEN,
        whatsapp_phone_number_id=WHATSAPP_PHONE_ID,
        whatsapp_base_url=cloud_url,
        whatsapp_api_version=WHATSAPP_VERSION,
        **extra,
    )


@pytest.fixture
def channels(smtp_server, cloud, tmp_path):
    """Email to the aiosmtpd server, SMS and WhatsApp to the fake cloud."""
    settings = channel_settings(smtp_server.port, cloud.url, tmp_path)
    built = channels_from_settings(settings, http=httpx.Client(timeout=5))
    yield built
    built.close()


__all__ = ["SMTP_PASSWORD", "SMTP_USER"]
