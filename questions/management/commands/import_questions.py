"""python manage.py import_questions PATH [--format gift|moodle_xml] [--publish]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from questions import errors as errors
from questions.catalogue import services as catalogue_services


class Command(BaseCommand):
    help = "Import a GIFT or Moodle XML file; a file with any error imports nothing."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--format", choices=["gift", "moodle_xml"], help="default: detect")
        parser.add_argument("--publish", action="store_true", help="publish at once (default: drafts)")

    def handle(self, *args, path: str, format: str | None, publish: bool, **options):
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        try:
            report = catalogue_services.questions_import(text=data, format=format, publish=publish)
        except errors.ServiceError as exc:
            lines = "\n".join(
                f"  {p.get('question') or ''}{' line ' + str(p['line']) if p.get('line') else ''}: {p['message']}"
                for p in exc.details or []
            )
            raise CommandError(f"{path}: {exc.message}\n{lines}") from exc
        except ValueError as exc:  # the interchange parsers' errors name the line
            raise CommandError(f"{path}: nothing was imported: {exc}") from exc
        self.stdout.write(f"{len(report.saved)} imported, {len(report.skipped)} unchanged.")
