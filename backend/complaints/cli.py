import click

from backend.errors import DomainErrorAware

from .services import erase_expired_contacts

complaints_cli = DomainErrorAware("complaints", help="Complaint jobs.")


@complaints_cli.command("erase-contacts")
def erase_contacts() -> None:
    """Erase the contact details of complaints closed longer ago than COMPLAINT_CONTACT_RETENTION_DAYS (the
    scheduler does it every RETENTION_JOB_SECONDS; for cron). Safe to run again."""
    erased = total = erase_expired_contacts()
    while erased:  # the job takes a batch at a time; from the command line, all of them
        erased = erase_expired_contacts()
        total += erased
    click.echo(f"erased the contact details of {total} complaints")
