"""Helpers for tests that post the web forms."""


def answer_form(kind, decision_reason, lawful_basis="", confidential_reason="", items=(), **extra):
    """The POST body of an agency's answer form, items numbered as the form numbers them."""
    data = {"kind": kind, "decision_reason": decision_reason, "lawful_basis": lawful_basis,
            "confidential_reason": confidential_reason, **extra}
    for i, item in enumerate(items):
        for key, value in item.items():
            data[f"item-{i}-{key}"] = value
    return data


def text(response) -> str:
    return response.content.decode()
