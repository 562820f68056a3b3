import copy

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from mash.partners import services
from mash.partners.isa import IsaInvalid, parse
from mash.partners.models import IsaVersion, Partner

SEED_PARTNERS = {
    "Basildon and Thurrock University Hospitals NHS Foundation Trust", "Clinical Commissioning Group",
    "Community Safety Board", "Education establishments (all primary and secondary)", "Essex Police",
    "Essex Probation", "G4S Sexual Assault Referral Centre", "Local Children Safeguarding Board",
    "NHS England for GPs", "North East London NHS Foundation Trust", "Safeguarding Adults Partnership Board",
    "South Essex Partnership University NHS Foundation Trust", "Thurrock Council",
}


@pytest.fixture
def text():
    return settings.MASH_ISA_FILE.read_text()


@pytest.fixture
def data(text):
    return yaml.safe_load(text)


def errors_of(data) -> list[str]:
    with pytest.raises(IsaInvalid) as exc:
        parse(yaml.safe_dump(data))
    return exc.value.errors


def test_shipped_isa_names_the_13_seed_partners(text):
    doc = parse(text)
    assert {p.name for p in doc.partners} == SEED_PARTNERS
    assert all(p.contributions for p in doc.partners)


def test_default_decision_timescales(text):
    doc = parse(text)
    assert {t.rag: t.hours for t in doc.decision_timescales} == {"red": 4, "amber": 24, "green": 72}


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["partners"][4]["contributions"][1].update(category="arests"),
     "partners[4].contributions[1].category: unknown data category 'arests'"),
    (lambda d: d["partners"][0]["lawful_bases"].append("made-up-basis"),
     "partners[0].lawful_bases[3]: unknown lawful basis 'made-up-basis'"),
    (lambda d: d.pop("title"), "title: required field is missing"),
    (lambda d: d["partners"][2].update(type="hospital"), "partners[2].type: 'hospital' is not allowed"),
    (lambda d: d["partners"][1].update(id=d["partners"][0]["id"]), "partners[1].id: duplicate 'btuh'"),
    (lambda d: d["decision_timescales"].pop(), "decision_timescales: no timescale for rating 'green'"),
    (lambda d: d["retention"].pop(0), "retention: no rule for outcome 'no_further_action'"),
    (lambda d: d["partners"][0].update(colour="blue"), "partners[0].colour: unknown field"),
    (lambda d: d["decision_timescales"][0].update(hours=0), "decision_timescales[0].hours:"),
    (lambda d: d["onward_disclosure"][0]["categories"].append("nope"),
     "onward_disclosure[0].categories[29]: unknown data category 'nope'"),
])
def test_errors_name_the_field(data, mutate, expected):
    bad = copy.deepcopy(data)
    mutate(bad)
    errors = errors_of(bad)
    assert any(e.startswith(expected) for e in errors), errors


def test_invalid_yaml_gives_line_and_column():
    with pytest.raises(IsaInvalid) as exc:
        parse("version: 1\npartners: [\n  - a: b\n")
    assert exc.value.errors[0].startswith("line ")


def test_document_must_be_a_mapping():
    with pytest.raises(IsaInvalid, match="expected a mapping"):
        parse("- just\n- a list\n")


def test_validate_command(tmp_path, data, capsys):
    call_command("isa", "validate", str(settings.MASH_ISA_FILE))
    assert "valid ISA version 2026.2: 13 partners" in capsys.readouterr().out
    bad = copy.deepcopy(data)
    bad["partners"][4]["contributions"][1]["category"] = "arests"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(CommandError) as exc:
        call_command("isa", "validate", str(path))
    assert exc.value.returncode == 1
    assert f"{path}: partners[4].contributions[1].category: unknown data category 'arests'" in capsys.readouterr().err


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(CommandError):
        call_command("isa", "validate", str(tmp_path / "none.yaml"))
    assert "no such file" in capsys.readouterr().err


@pytest.mark.django_db
def test_loading_adds_a_version_and_leaves_the_old_untouched(text):
    v1, created = services.load_text(text)
    assert created and Partner.objects.count() == 13
    before = (v1.document, v1.source_text, v1.source_sha256)
    changed = text.replace('version: "2026.2"', 'version: "2026.3"').replace("hours: 4}", "hours: 2}")
    v2, created = services.load_text(changed)
    assert created and v2.version == "2026.3"
    v1.refresh_from_db()
    assert (v1.document, v1.source_text, v1.source_sha256) == before
    assert services.current()[1].timescale("red").hours == 2
    assert services.agreement_for(v1).timescale("red").hours == 4
    assert IsaVersion.objects.count() == 2


@pytest.mark.django_db
def test_reloading_the_same_text_is_a_no_op(text):
    services.load_text(text)
    _, created = services.load_text(text)
    assert not created and IsaVersion.objects.count() == 1


@pytest.mark.django_db
def test_same_version_with_other_text_is_refused(text):
    services.load_text(text)
    with pytest.raises(IsaInvalid, match="already loaded with different text"):
        services.load_text(text.replace("hours: 4}", "hours: 3}"))


@pytest.mark.django_db
def test_load_and_list_commands(capsys):
    call_command("isa", "load", str(settings.MASH_ISA_FILE))
    call_command("isa", "load", str(settings.MASH_ISA_FILE))
    call_command("isa", "list")
    out = capsys.readouterr().out
    assert "Loaded ISA version 2026.2" in out and "already loaded (unchanged)" in out and "current" in out
