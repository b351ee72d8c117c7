"""python manage.py load_bank [PATH]: load the theory bank; loading twice changes nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from questions.catalogue import services as catalogue_services
from questions.catalogue.schema import BankValidationError

DEFAULT_BANK = Path(__file__).resolve().parents[2] / "bank"


class Command(BaseCommand):
    help = "Validate and load questions/bank/*.yaml (new content makes new question versions)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEFAULT_BANK), help="bank folder")

    def handle(self, *args, path: str, **options):
        try:
            report = catalogue_services.bank_load(path=Path(path))
        except BankValidationError as exc:
            raise CommandError(f"The bank has errors; nothing was loaded:\n{exc}") from exc
        except FileNotFoundError as exc:
            raise CommandError(f"No bank at {path}: {exc}") from exc
        self.stdout.write(
            f"{report.questions} questions in {report.topics} topics; "
            f"{len(report.changed)} new or changed."
        )
