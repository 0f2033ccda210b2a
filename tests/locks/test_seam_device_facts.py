"""What a Seam device said about its backup pool outlives one pass, for an hour."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx

from doorcode.domain.windows import TimeWindow
from doorcode.locks.base import NewCode, ProviderAccount
from doorcode.locks.links import AccountLinks
from doorcode.locks.seam import POOL_BELIEVED_FOR, SeamProvider

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
WINDOW = TimeWindow(NOW + timedelta(hours=3), NOW + timedelta(days=2))
ACCOUNT = ProviderAccount(
    "acc_1", "org_1", "seam", "Seam", {"api_key": "seam_key"}, {"base_url": "https://seam.test"}
)


class Cloud:
    """Answers devices/get and access_codes/create; keeps every call's path and body."""

    def __init__(self, keeps_pool: bool) -> None:
        self.keeps_pool = keeps_pool
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.calls.append((request.url.path, body))
        if request.url.path == "/devices/get":
            properties = {"online": True, "supports_backup_access_code_pool": self.keeps_pool}
            return httpx.Response(
                200, json={"device": {"device_id": "dev_1", "properties": properties}}
            )
        code = {"access_code_id": f"ac_{len(self.calls)}", "name": body["name"], "status": "unset"}
        return httpx.Response(200, json={"access_code": code})

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]

    def pool_flags(self) -> list[bool]:
        return [
            body.get("use_backup_access_code_pool", False)
            for path, body in self.calls
            if path == "/access_codes/create"
        ]


def passes(cloud: Cloud, links: AccountLinks, instants: list[datetime], health: bool = False):
    """One provider per instant, built as a pass's session builds it; each creates one code."""

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(cloud)) as http:
            for number, instant in enumerate(instants):
                provider = SeamProvider.build(
                    ACCOUNT, http=http, clock=lambda instant=instant: instant, links=links
                )
                if health:
                    await provider.health("dev_1")
                await provider.create_code("dev_1", NewCode(f"dc-{number}", "4821", WINDOW))

    asyncio.run(run())


def test_a_later_pass_creates_without_asking_again_whether_the_device_keeps_a_pool():
    cloud = Cloud(keeps_pool=True)
    passes(cloud, AccountLinks(), [NOW, NOW + timedelta(minutes=5)])
    assert cloud.paths() == ["/devices/get", "/access_codes/create", "/access_codes/create"]
    assert cloud.pool_flags() == [True, True]


def test_after_an_hour_the_device_is_asked_again_and_its_new_answer_holds():
    cloud = Cloud(keeps_pool=True)
    links = AccountLinks()
    passes(cloud, links, [NOW])
    cloud.keeps_pool = False
    passes(cloud, links, [NOW + POOL_BELIEVED_FOR])
    assert cloud.paths().count("/devices/get") == 2
    assert cloud.pool_flags() == [True, False]


def test_a_health_answer_says_whether_the_device_keeps_a_pool():
    cloud = Cloud(keeps_pool=True)
    passes(cloud, AccountLinks(), [NOW], health=True)
    assert cloud.paths() == ["/devices/get", "/access_codes/create"]  # the health call only
    assert cloud.pool_flags() == [True]


def test_accounts_do_not_share_what_their_devices_said():
    cloud = Cloud(keeps_pool=True)
    links = AccountLinks()
    passes(cloud, links, [NOW])
    other = ProviderAccount("acc_2", "org_2", "seam", "Seam", {"api_key": "k2"}, ACCOUNT.options)

    async def create_on_other() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(cloud)) as http:
            provider = SeamProvider.build(other, http=http, clock=lambda: NOW, links=links)
            await provider.create_code("dev_1", NewCode("dc-x", "4821", WINDOW))

    asyncio.run(create_on_other())
    assert cloud.paths().count("/devices/get") == 2
