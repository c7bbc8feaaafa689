"""Every existing user gets a personal team they own and act in (new users get one at sign-up)."""

from django.db import migrations


def create_personal_teams(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Team = apps.get_model("teams", "Team")
    Membership = apps.get_model("teams", "Membership")
    has_team = Membership.objects.filter(team__personal=True).values("user_id")
    for user in User.objects.exclude(pk__in=has_team).only("pk", "name", "email").iterator():
        name = (user.name or user.email.split("@")[0]).strip()[:80]
        team = Team.objects.create(name=f"{name}'s team", personal=True)
        Membership.objects.create(team=team, user=user, role="owner")
        User.objects.filter(pk=user.pk, current_team__isnull=True).update(current_team=team)


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0001_initial"),
        ("accounts", "0003_team_of_tokens_and_current_team"),
    ]

    operations = [
        migrations.RunPython(create_personal_teams, migrations.RunPython.noop),
    ]
