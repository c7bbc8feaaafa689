"""Run the domains upkeep now (what celery beat runs periodically)."""

from django.core.management.base import BaseCommand

from domains import certificates, services, zones
from domains.models import Domain


class Command(BaseCommand):
    help = (
        "Re-check pending domains, retry and renew certificates, renew and remind registrations; "
        "with --publish-zones, send every hosted zone to PowerDNS again (e.g. after a restore)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--publish-zones", action="store_true")

    def handle(self, *args, publish_zones=False, **options):
        if publish_zones:
            hosted = Domain.objects.filter(dns_hosted=True)
            done = sum(zones.zone_publish(domain=d) for d in hosted)
            self.stdout.write(f"zones published: {done} of {hosted.count()}")
        self.stdout.write(f"domains checked: {services.domains_verify_due()}")
        self.stdout.write(f"certificates: {certificates.certificates_maintain()}")
        self.stdout.write(f"registrations: {services.registrations_maintain()}")
