"""The test world: what tests share, kept out of any test module (docs/testing.md).

- `world`: the ISA, named actors (`world.user("police_worker")`, as Zulip's `example_user("hamlet")`) and
  the user factory behind them; `contact_data` and `child_data` for a new contact.
- `cases`: the named cases the fixtures in src/mash/conftest.py build (a decided case, one with every kind
  of record, one with files), and the steps tests take on them (`sent`, `log_sar`, ...).
- `api`: the one API client (`Api`) and `bearer()`.
- `routes`: every URL pattern, and the bodies the API's POSTs need.
- `database`: raw reads and writes past the ORM, damaged ciphertexts, tampering with the audit log.
- `pages`: what a response or a PDF says, and the POST bodies of web forms.
- `scratch`: a database of a backup test's own.

No test module imports another test module (core/tests/test_one_test_world.py checks it): what two test
modules need goes here, and fixtures go in a conftest.py.
"""
