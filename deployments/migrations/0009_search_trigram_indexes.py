"""Trigram indexes for the deployment search on PostgreSQL, so a search (``icontains`` on the
branch, ``istartswith`` on the commit) reads an index instead of every deployment of the team.

Django compares ``UPPER(column::text) LIKE UPPER(%s)``, so the indexes are on that expression.
``fastupdate = off``: new rows go into the index at once instead of a pending list that the
planner prices as a scan until the next vacuum (deployments are written rarely, searched often).
Other databases have nothing to do (SQLite scans; its tables stay small in the embedded
default).
"""

from django.db import migrations

INDEXES = {
    "deployments_deploy_branch_trgm": "branch",
    "deployments_deploy_commit_trgm": "commit_hash",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("deployments", "Deployment")._meta.db_table
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops) WITH (fastupdate = off)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("deployments", "0008_deployment_damaged_path"),
    ]

    operations = [migrations.RunPython(create, drop)]
