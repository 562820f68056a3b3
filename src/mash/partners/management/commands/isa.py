"""`mash isa validate|load|list|show`: the Information Sharing Agreement's versions."""

from django.core.management.base import BaseCommand, CommandError

from mash.partners import services
from mash.partners.isa import IsaInvalid
from mash.partners.models import IsaVersion


class Command(BaseCommand):
    help = "Validate, load, list and show versions of the Information Sharing Agreement."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("validate", help="check an ISA file and report each bad field").add_argument("file")
        sub.add_parser("load", help="validate and load an ISA file as a new version").add_argument("file")
        sub.add_parser("list", help="the loaded versions, newest first")
        sub.add_parser("show", help="the YAML of a loaded version").add_argument("version", nargs="?")

    def handle(self, *args, action, **options):
        return getattr(self, f"_{action}")(**options)

    def _fail(self, file, exc: IsaInvalid):
        for error in exc.errors:
            self.stderr.write(f"{file}: {error}")
        raise CommandError(f"{file}: {len(exc.errors)} error{'s' if len(exc.errors) != 1 else ''}", returncode=1)

    def _validate(self, file, **_):
        try:
            doc = services.validate_text(services.read_file(file))
        except IsaInvalid as exc:
            self._fail(file, exc)
        self.stdout.write(f"{file}: valid ISA version {doc.version}: {len(doc.partners)} partners, "
                          f"{len(doc.data_categories)} data categories")

    def _load(self, file, **_):
        try:
            version, created = services.load_file(file)
        except IsaInvalid as exc:
            self._fail(file, exc)
        if created:
            self.stdout.write(f"Loaded ISA version {version.version} ({version.title})")
        else:
            self.stdout.write(f"ISA version {version.version} is already loaded (unchanged)")

    def _list(self, **_):
        versions = list(IsaVersion.objects.all())
        if not versions:
            self.stdout.write("No ISA version is loaded: run `mash isa load FILE`")
            return
        for i, v in enumerate(versions):
            mark = "current" if i == 0 else ""
            self.stdout.write(f"{v.version:<12} effective {v.effective_from}  loaded {v.loaded_at:%Y-%m-%d %H:%M}  "
                              f"sha256 {v.source_sha256[:12]}  {mark}".rstrip())

    def _show(self, version=None, **_):
        if version:
            found = IsaVersion.objects.filter(version=version).first()
            if found is None:
                raise CommandError(f"No ISA version '{version}' is loaded")
        else:
            found = IsaVersion.objects.first()
            if found is None:
                raise CommandError("No ISA version is loaded")
        self.stdout.write(found.source_text, ending="")
