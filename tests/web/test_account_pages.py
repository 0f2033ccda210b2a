"""The owners' page for lock accounts: connect Seam, import its devices, health on lock pages."""

from __future__ import annotations

from doorcode.services.provider_accounts import list_accounts
from tests.web.conftest import csrf_of, sign_in


def connect_seam(client, peer, label="Workspace"):
    token = csrf_of(client, "/accounts")
    return client.post(
        "/accounts",
        data={
            "csrf_token": token,
            "kind": "seam",
            "label": label,
            "credential_api_key": peer.api_key,
            "base_url": peer.api_url,
        },
        follow_redirects=False,
    )


def test_an_owner_connects_imports_and_sees_health_but_never_the_key(
    signed_in, seam_peer, world, runtime
):
    seam_peer.add_device("dev_front", "Seam front door", online=True, battery_level=0.35)
    assert connect_seam(signed_in, seam_peer).status_code == 303
    page = signed_in.get("/accounts").text
    assert "Workspace" in page
    assert seam_peer.api_key not in page
    [account] = [a for a in list_accounts(runtime.uow(), world.owner) if a.kind == "seam"]
    token = csrf_of(signed_in, "/accounts")
    imported = signed_in.post(f"/accounts/{account.id}/import", data={"csrf_token": token})
    assert "Seam front door: added" in imported.text
    locks = signed_in.get("/locks").text
    assert "Seam front door" in locks
    assert "35%" in locks


def test_a_missing_credential_is_shown_and_nothing_is_connected(signed_in, world, runtime):
    token = csrf_of(signed_in, "/accounts")
    answer = signed_in.post("/accounts", data={"csrf_token": token, "kind": "seam", "label": "W"})
    assert answer.status_code == 422
    assert "needs: api_key" in answer.text
    assert [a.kind for a in list_accounts(runtime.uow(), world.owner)] == ["virtual"]


def test_the_accounts_page_is_for_owners_only(client, world):
    assert sign_in(client, "manager").status_code == 303
    assert client.get("/accounts").status_code == 403
    assert 'href="/accounts"' not in client.get("/").text
