"""The audit log's cryptography, without a database."""

import datetime as dt
import hashlib
import json

from hypothesis import given, settings, strategies as st

from mash.audit import chain


def test_the_encoding_depends_on_no_time_zone():
    utc = dt.datetime(2026, 3, 12, 9, 30, 0, 123456, tzinfo=dt.timezone.utc)
    london_summer = utc.astimezone(dt.timezone(dt.timedelta(hours=1)))
    a = chain.canonical({"at": utc, "people": [3, 1], "detail": "Réunion"})
    b = chain.canonical({"detail": "Réunion", "people": [3, 1], "at": london_summer})
    assert a == b == '{"at":"2026-03-12T09:30:00.123456Z","detail":"Réunion","people":[3,1]}'.encode()


def test_the_encoding_refuses_what_has_no_single_form():
    import pytest

    with pytest.raises(TypeError):
        chain.canonical({"score": 0.1})
    with pytest.raises(ValueError):
        chain.canonical({"at": dt.datetime(2026, 1, 1)})


@settings(max_examples=60)
@given(st.lists(st.binary(min_size=1, max_size=8), min_size=0, max_size=70))
def test_the_frontier_root_is_rfc6962s_merkle_tree_hash(items):
    leaves = [chain.leaf_hash(i) for i in items]
    frontier = chain.Frontier()
    for n, leaf in enumerate(leaves, start=1):
        frontier.add(leaf)
        assert frontier.root() == chain.merkle_root(leaves[:n])
    restored = chain.Frontier.from_json(json.loads(json.dumps(frontier.to_json())))
    assert restored.root() == chain.merkle_root(leaves) and restored.size == len(leaves)


def test_known_merkle_roots():
    # RFC 6962's structure: three leaves hash as node(node(a, b), c).
    a, b, c = (chain.leaf_hash(x) for x in (b"a", b"b", b"c"))
    assert chain.merkle_root([a, b, c]) == chain.node_hash(chain.node_hash(a, b), c)
    assert chain.merkle_root([]) == hashlib.sha256(b"").digest()


def test_a_checkpoint_signature_checks_only_its_own_statement():
    key = chain.private_from_text(chain.new_private_key_text())
    at = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone.utc)
    root, head = chain.leaf_hash(b"x"), chain.leaf_hash(b"y")
    signature = chain.sign(key, chain.checkpoint_message(10, root, head, at))
    public = chain.public_from_text(chain.public_text(key.public_key()))
    assert chain.signature_valid(public, chain.checkpoint_message(10, root, head, at), signature)
    assert not chain.signature_valid(public, chain.checkpoint_message(9, root, head, at), signature)
    other = chain.private_from_text(chain.new_private_key_text()).public_key()
    assert not chain.signature_valid(other, chain.checkpoint_message(10, root, head, at), signature)
    assert not chain.signature_valid(public, chain.checkpoint_message(10, root, head, at), "not base64!")
