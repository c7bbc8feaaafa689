"""Two-factor sign-in: authenticator app codes (computed with pyotp) and recovery codes, in the
browser's sign-in flow and over the API; teams that require it."""

from __future__ import annotations

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from conftest import PASSWORD, bearer_client
from hosting.services import site_create
from teams.models import Membership, Role
from teams.services import team_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret(alice) -> str:
    value = generate_totp_secret()
    TOTP.activate(alice, value)
    RecoveryCodes.activate(alice)
    return value


def _login(api, **body):
    return api.post("/api/auth/login", body, format="json")


def test_api_sign_in_asks_for_the_second_factor_then_completes(anon_api, alice, secret):
    first = _login(anon_api, email=alice.email, password=PASSWORD)
    assert first.status_code == 401
    error = first.json()["error"]
    assert error["code"] == "TWO_FACTOR_REQUIRED"
    challenge = error["details"]["challenge"]
    assert "accessToken" not in first.json()

    wrong = _login(anon_api, challenge=challenge, code="000000")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "INVALID_CODE"

    code = pyotp.TOTP(secret).now()
    done = _login(anon_api, challenge=challenge, code=code)
    assert done.status_code == 200, done.content
    token = done.json()["accessToken"]
    me = anon_api.get("/api/auth/session", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200
    # The same code cannot be used twice.
    again = _login(anon_api, challenge=challenge, code=code)
    assert again.status_code == 401


def test_api_sign_in_with_a_recovery_code_works_once(anon_api, alice, secret):
    codes = RecoveryCodes(Authenticator.objects.get(user=alice, type="recovery_codes"))
    code = codes.get_unused_codes()[0]
    challenge = _login(anon_api, email=alice.email, password=PASSWORD).json()["error"]["details"][
        "challenge"
    ]
    assert _login(anon_api, challenge=challenge, code=code).status_code == 200
    assert _login(anon_api, challenge=challenge, code=code).status_code == 401


def test_a_forged_challenge_is_refused(anon_api, alice, secret):
    response = _login(anon_api, challenge="forged", code=pyotp.TOTP(secret).now())
    assert response.status_code == 401


def test_accounts_without_two_factor_sign_in_as_before(anon_api, bob):
    response = _login(anon_api, email=bob.email, password=PASSWORD)
    assert response.status_code == 200 and response.json()["accessToken"]


def test_browser_sign_in_with_totp(client, alice, secret):
    response = client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate")
    assert client.get("/dashboard/").status_code == 302  # not signed in yet
    response = client.post(response["Location"], {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_browser_sign_in_with_a_recovery_code_leads_to_setting_up_again(client, alice, secret):
    code = RecoveryCodes(
        Authenticator.objects.get(user=alice, type="recovery_codes")
    ).get_unused_codes()[0]
    step = client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    response = client.post(step["Location"], {"code": code})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/"


def test_a_team_can_require_two_factor_of_its_members(alice, bob):
    team = team_create(owner=alice, name="Acme")
    Membership.objects.create(team=team, user=bob, role=Role.DEVELOPER)
    site = site_create(team=team, owner=alice, name="Shop", slug="acme-shop")
    team.require_two_factor = True
    team.save()
    api = bearer_client(bob)
    refused = api.get(f"/api/sites/{site.pk}")
    assert refused.status_code == 403
    assert "two-factor" in refused.json()["error"]["message"]
    TOTP.activate(bob, generate_totp_secret())
    assert bearer_client(bob).get(f"/api/sites/{site.pk}").status_code == 200
