"""Walk every URL pattern the project has: each declares its access policy, and none serves case
data to a user without a need to know it."""

import re

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

from mash.access.declare import policy_of

CASE_MODELS = {"contact", "enquiry", "person", "relationship", "informationrequest", "contribution",
               "contributionitem", "decision", "ragratingrecord", "enquiryevent", "revision"}


def walk(patterns=None, prefix="", namespace=""):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), namespace, p


def all_patterns():
    return [(route, ns, p) for route, ns, p in walk()]


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
