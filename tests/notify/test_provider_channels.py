"""SMS through Twilio and WhatsApp through Meta's Cloud API, against a local fake of each."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from doorcode.domain.messages import MessagePurpose
from doorcode.notify.channel import OutgoingMessage
from doorcode.notify.errors import OutcomeUnknown, PermanentFailure, TransientFailure
from doorcode.notify.templates import RenderedMessage
from doorcode.notify.twilio import TwilioSettings, TwilioSmsChannel
from doorcode.notify.whatsapp import WhatsAppChannel, WhatsAppSettings
from tests.notify.conftest import TWILIO_TOKEN, WHATSAPP_TOKEN
from tests.notify.servers import (
    TWILIO_SID,
    WHATSAPP_PHONE_ID,
    WHATSAPP_VERSION,
    Answer,
    refusing_port,
    twilio_error,
    whatsapp_error,
)

PHONE = "+351912345678"


def outgoing(rendered: RenderedMessage) -> OutgoingMessage:
    return OutgoingMessage(
        recipient=PHONE,
        recipient_name="Inês Carvalho",
        rendered=rendered,
        idempotency_key="grt_1:check_in_instructions:v1:sms",
        purpose=MessagePurpose.CHECK_IN_INSTRUCTIONS,
        created_at=datetime(2026, 12, 2, 10, tzinfo=UTC),
    )


SMS = RenderedMessage(text="Flat 1A: your door code is 482913")
TEMPLATE = RenderedMessage(
    parameters=("Inês", "Flat 1A", "Street door: 482913; Flat door: 482913"),
    provider_template="doorcode_check_in_instructions",
    language="pt_PT",
)


def twilio(base_url: str, timeout: float = 5) -> TwilioSmsChannel:
    settings = TwilioSettings(TWILIO_SID, TWILIO_TOKEN, "+15557122661", base_url)
    return TwilioSmsChannel(settings, httpx.Client(timeout=timeout))


def whatsapp(base_url: str) -> WhatsAppChannel:
    settings = WhatsAppSettings(WHATSAPP_TOKEN, WHATSAPP_PHONE_ID, base_url, WHATSAPP_VERSION)
    return WhatsAppChannel(settings, httpx.Client(timeout=5))


def test_an_sms_is_a_twilio_message_with_the_documented_form(cloud):
    sid = twilio(cloud.url).send(outgoing(SMS))
    [request] = cloud.requests
    assert sid.startswith("SM")
    assert request.basic_auth() == (TWILIO_SID, TWILIO_TOKEN)
    assert request.form() == {
        "To": PHONE,
        "From": "+15557122661",
        "Body": "Flat 1A: your door code is 482913",
    }


def test_a_messaging_service_sends_as_itself(cloud):
    settings = TwilioSettings(TWILIO_SID, TWILIO_TOKEN, "MG" + "2" * 32, cloud.url)
    TwilioSmsChannel(settings, httpx.Client()).send(outgoing(SMS))
    assert cloud.requests[0].form()["MessagingServiceSid"] == "MG" + "2" * 32


@pytest.mark.parametrize(
    ("answer", "failure", "says"),
    [
        (
            twilio_error(400, 21211, f"The 'To' number {PHONE} is not a valid phone number."),
            PermanentFailure,
            "error 21211",
        ),
        (
            twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"),
            PermanentFailure,
            "21610",
        ),
        (twilio_error(401, 20003, "Authenticate"), PermanentFailure, "20003"),
        (
            twilio_error(429, 20429, "Too Many Requests", {"Retry-After": "120"}),
            TransientFailure,
            "429",
        ),
        (twilio_error(500, 20500, "Internal Server Error"), TransientFailure, "500"),
        (Answer(503, {}), TransientFailure, "503"),
    ],
)
def test_twilio_errors_are_retried_only_when_retrying_can_help(cloud, answer, failure, says):
    cloud.answers["twilio"].append(answer)
    with pytest.raises(failure) as raised:
        twilio(cloud.url).send(outgoing(SMS))
    assert type(raised.value) is failure
    assert says in raised.value.reason
    assert TWILIO_TOKEN not in raised.value.reason


def test_twilio_asking_to_wait_is_honoured(cloud):
    cloud.answers["twilio"].append(
        twilio_error(429, 20429, "Too Many Requests", {"Retry-After": "120"})
    )
    with pytest.raises(TransientFailure) as raised:
        twilio(cloud.url).send(outgoing(SMS))
    assert raised.value.retry_after == timedelta(seconds=120)


def test_a_whatsapp_message_is_an_approved_template_with_body_parameters(cloud):
    wamid = whatsapp(cloud.url).send(outgoing(TEMPLATE))
    [request] = cloud.requests
    assert wamid.startswith("wamid.")
    assert request.headers["authorization"] == f"Bearer {WHATSAPP_TOKEN}"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PHONE.lstrip("+"),
        "type": "template",
        "template": {
            "name": "doorcode_check_in_instructions",
            "language": {"code": "pt_PT"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Inês"},
                        {"type": "text", "text": "Flat 1A"},
                        {"type": "text", "text": "Street door: 482913; Flat door: 482913"},
                    ],
                }
            ],
        },
        "biz_opaque_callback_data": "grt_1:check_in_instructions:v1:sms",
    }


@pytest.mark.parametrize(
    ("answer", "failure"),
    [
        (
            whatsapp_error(400, 131026, "Message undeliverable", "Unable to deliver"),
            PermanentFailure,
        ),
        (
            whatsapp_error(404, 132001, "Template name does not exist in the translation", "x"),
            PermanentFailure,
        ),
        (whatsapp_error(401, 190, "Access token has expired", "expired"), PermanentFailure),
        (
            whatsapp_error(400, 100, "Invalid parameter", "Parameter value is not valid"),
            PermanentFailure,
        ),
        (whatsapp_error(429, 130429, "Rate limit hit", "too many messages"), TransientFailure),
        (
            whatsapp_error(400, 131056, "Pair rate limit hit", "too many to this user"),
            TransientFailure,
        ),
        (whatsapp_error(500, 131000, "Something went wrong", "unknown"), TransientFailure),
        (whatsapp_error(503, 2, "Service temporarily unavailable", "down"), TransientFailure),
    ],
)
def test_whatsapp_errors_are_decided_by_their_code(cloud, answer, failure):
    cloud.answers["whatsapp"].append(answer)
    with pytest.raises(failure) as raised:
        whatsapp(cloud.url).send(outgoing(TEMPLATE))
    assert type(raised.value) is failure
    assert f"error {answer.body['error']['code']}" in raised.value.reason
    assert WHATSAPP_TOKEN not in raised.value.reason


def test_a_provider_nobody_answers_at_is_worth_a_retry():
    with refusing_port() as port, pytest.raises(TransientFailure, match="cannot reach Twilio"):
        twilio(f"http://127.0.0.1:{port}").send(outgoing(SMS))


def test_an_answer_lost_after_the_request_left_is_an_unknown_outcome(cloud):
    # Long after the 0.3 s timeout, even if a busy machine stalls the client past it.
    cloud.answers["twilio"].append(Answer(201, {"sid": "SMlate"}, delay=30.0))
    with pytest.raises(OutcomeUnknown, match="did not answer"):
        twilio(cloud.url, timeout=0.3).send(outgoing(SMS))
