"""Walk every URL pattern the project has: each declares its access policy, and none serves case
data to a user without a need to know it."""

import re

import pytest
from django.contrib import admin

from mash.core.declare import policy_of
from mash.testing.routes import all_patterns

CASE_MODELS = {"contact", "enquiry", "person", "relationship", "informationrequest", "contribution",
               "contributionitem", "decision", "ragratingrecord", "enquiryevent", "revision"}


def test_every_url_declares_an_access_policy():
    missing = [route for route, ns, p in all_patterns() if ns != "admin" and policy_of(p.callback) is None]
    assert missing == [], f"URLs without a declared access policy: {missing}"


def test_django_admin_holds_no_case_data():
    # Admin is for system administrators; case data never goes through it.
    registered = {m._meta.model_name for m in admin.site._registry}
    assert not (registered & CASE_MODELS), registered & CASE_MODELS


def concrete(route: str, enquiry, request_obj) -> str:
    """A real URL for a route pattern, its parameters filled with objects that exist."""
    values = {"reference": enquiry.reference, "pk": str(request_obj.pk), "request_id": str(request_obj.pk)}

    def fill(match):
        name = match.group(2)
        return values.get(name, "1")

    url = re.sub(r"<(?:(\w+):)?(\w+)>", fill, route)
    url = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), url)
    return "/" + url.lstrip("^").rstrip("$")


@pytest.mark.django_db
def test_case_urls_answer_nobody_outside_need_to_know(client, asked_enquiry, make_user):
    """Anonymous users, and signed-in users with no link to the case, get nothing of it."""
    request_obj = asked_enquiry.information_requests.first()
    outsiders = [make_user(role) for role in ("auditor", "dpo", "receiving_professional")]
    outsiders.append(make_user("mash_worker", "g4s-sarc"))  # an agency that was not asked
    child_name = asked_enquiry.child.last_name
    checked = 0
    for route, ns, p in all_patterns():
        name = policy_of(p.callback) or ""
        names = list(name.values()) if isinstance(name, dict) else [name]  # per method, for some API paths
        if ns == "admin" or not any(n.startswith("case:") for n in names):
            continue
        url = concrete(route, asked_enquiry, request_obj)
        is_list = url == "/" + route.lstrip("^").rstrip("$")  # no parameters: a filtered list
        client.logout()
        response = client.get(url)
        assert response.status_code in (302, 401, 404, 405), (url, "anonymous", response.status_code)
        for user in outsiders:
            client.force_login(user)
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                refused = {401, 403, 404, 405}
                if method == "post":
                    refused |= {400, 422}  # an empty body is refused before any data is read
                if is_list and method == "get":
                    refused.add(200)  # a list filtered to nothing; the name check below proves it
                assert response.status_code in refused, (url, method, user.role, response.status_code)
                assert child_name.encode() not in response.content, (url, user.role)
            checked += 1
    assert checked > 0


GATED = ("case:", "audit:", "reports:")


def _gated(p) -> bool:
    name = policy_of(p.callback) or ""
    names = list(name.values()) if isinstance(name, dict) else [name]
    return any(n.startswith(GATED) for n in names)


@pytest.mark.django_db
def test_staff_without_current_training_are_refused_every_case_url(client, asked_enquiry, make_user):
    """A manager whose refresher lapsed and an asked agency's worker with none recorded: every URL that
    guards case data, the audit log or reports answers 403 saying why (web and API, session and token),
    records the refusal, and shows nothing of the case. Their own training page stays open."""
    import datetime as dt

    from django.utils import timezone

    from mash.accounts.services import create_token
    from mash.audit.models import AuditEvent, Kind

    request_obj = asked_enquiry.information_requests.get(partner__slug="essex-police")
    lapsed = make_user("mash_manager", username="lapsed-manager",
                       trained=timezone.localdate() - dt.timedelta(days=366 + 31))
    untrained = make_user("mash_worker", "essex-police", username="untrained-worker", trained=False)
    reasons = {lapsed: b"training refresher lapsed on", untrained: b"no training refresher is recorded"}
    tokens = {user: create_token(user)[1] for user in reasons}
    child_name = asked_enquiry.child.last_name.encode()
    checked = 0
    for route, ns, p in all_patterns():
        if ns == "admin" or not _gated(p):
            continue
        url = concrete(route, asked_enquiry, request_obj)
        api = url.startswith("/api/")
        for user, reason in reasons.items():
            for auth in ("session", "token") if api else ("session",):
                client.logout()
                headers = {}
                if auth == "session":
                    client.force_login(user)
                else:
                    headers = {"HTTP_AUTHORIZATION": f"Bearer {tokens[user]}"}
                for method in ("get", "post", "put") if api else ("get", "post"):
                    denials = AuditEvent.objects.filter(kind=Kind.DENIAL, actor_id=user.pk).count()
                    response = getattr(client, method)(url, **headers)
                    if response.status_code == 405:
                        continue  # the path answers no such method, for anyone
                    where = (url, method, auth, user.username)
                    assert response.status_code == 403, (*where, response.status_code)
                    assert reason in response.content, where
                    assert child_name not in response.content, where
                    assert AuditEvent.objects.filter(kind=Kind.DENIAL, actor_id=user.pk).count() == denials + 1, where
                    checked += 1
    assert checked > 100
    for user in reasons:
        client.force_login(user)
        page = client.get("/training/")
        assert page.status_code == 200 and b"You cannot reach case data" in page.content
        assert client.get("/").status_code == 200
        me = client.get("/api/v1/training/me").json()
        assert me["current"] is False and me["state"] in ("lapsed", "never")


@pytest.mark.django_db
def test_a_recorded_completion_opens_the_door_again(client, asked_enquiry, make_user, manager):
    from mash.training import services as training

    worker = make_user("mash_worker", "essex-police", username="returning-worker", trained=False)
    client.force_login(worker)
    assert client.get("/requests/").status_code == 403
    training.record_completion(by=manager, username=worker.username, course="Refresher",
                               completed_on=str(asked_enquiry.created_at.date()), evidence_reference="CERT-9")
    assert client.get("/requests/").status_code == 200
    assert client.get(f"/enquiries/{asked_enquiry.reference}/").status_code == 200


@pytest.mark.django_db
def test_ids_past_the_databases_range_are_not_found_not_errors(client, asked_enquiry, manager):
    """Every web URL that takes a number, given one no database row can have, answers 404 or 405."""
    client.force_login(manager)
    big = str(2**70)
    walked = 0
    for route, ns, pattern in all_patterns():
        if ns == "admin" or route.startswith("api/") or "<int:" not in route:
            continue
        url = "/" + re.sub(r"<int:\w+>", big, route).replace("<str:reference>", asked_enquiry.reference)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (404, 405), f"{method.upper()} {url}: {response.status_code}"
        walked += 1
    assert walked >= 10


def test_each_api_url_declares_its_own_operations_policy(client):
    """The policy a URL of the API carries (what the door and the walks above read) is the one its own
    operations declare in the OpenAPI document, also where two routers' functions share a name."""
    document = client.get("/api/v1/openapi.json").json()
    wrong = []
    for route, ns, p in all_patterns():
        if not route.startswith("api/v1/") or route in ("api/v1/", "api/v1/openapi.json", "api/v1/docs"):
            continue
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        operations = document["paths"][path]
        expected = {method.upper(): op["x-access-policy"] for method, op in operations.items()}
        declared = policy_of(p.callback)
        declared = declared if isinstance(declared, dict) else {m: declared for m in expected}
        if declared != expected:
            wrong.append(f"{route}: declares {declared}, its operations {expected}")
    assert wrong == [], "\n".join(wrong)
