"""Demo data for the embedded run mode: a learner account and a stock of numeric problems."""

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from attention_engine import api as engine
from questions import services

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "attention-demo"


class Command(BaseCommand):
    help = "Create the demo learner, load the theory bank and stock a few variants of every kind."

    def add_arguments(self, parser):
        parser.add_argument("--per-kind", type=int, default=2, help="variants to stock per kind")

    def handle(self, *args, per_kind: int, **options):
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=DEMO_USERNAME)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        call_command("load_bank", verbosity=0)
        for kind in engine.list_kinds():
            missing = min(per_kind, services.stock_missing(kind=kind["name"], difficulty="medium"))
            services.variants_generate(kind=kind["name"], difficulty="medium", count=missing)
        self.stdout.write(
            self.style.SUCCESS(f"Demo learner: username {DEMO_USERNAME!r}, password {DEMO_PASSWORD!r}")
        )
