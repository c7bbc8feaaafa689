"""Queue Celery tasks once the surrounding transaction commits.

Services name the task they start by its Celery name (``"deployments.tasks.build_deployment"``),
the way beat schedules do, instead of importing the tasks module: tasks call services, so a
service importing its tasks would make a cycle. A task queued before commit could run before
its row is visible, or for a row a rollback removed; ``on_commit`` prevents both.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils.module_loading import import_string


def enqueue_on_commit(task: str, *args, task_id: str | None = None, **options) -> str:
    """Send ``task(*args)`` after commit (at once outside a transaction); return its task id.

    The id is chosen now, so the caller can store it on its job record in the same transaction.
    ``options`` go to ``apply_async`` (``countdown``, ``queue``, ...).
    """
    task_id = task_id or str(uuid.uuid4())

    def send() -> None:
        import_string(task).apply_async(args=list(args), task_id=task_id, **options)

    transaction.on_commit(send)
    return task_id
