"""python manage.py export_questions --format gift|moodle_xml [--output PATH]"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from questions.catalogue import selectors as catalogue_selectors
from questions.catalogue.interchange import dump


class Command(BaseCommand):
    help = "Export every published question (its newest published version) to GIFT or Moodle XML."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["gift", "moodle_xml"], required=True)
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, format: str, output: str | None, **options):
        text = dump([v.data for v in catalogue_selectors.current_versions()], format)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {output}")
        else:
            sys.stdout.write(text)
