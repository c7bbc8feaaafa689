"""What a backup's WebSocket group hears, and the helpers that publish it.

One group per backup, ``backup.<id>``. The row is stored first (state, phase, files and bytes
done); the message is only a nudge to read it again, so a dropped message costs nothing but a
moment: the consumer also re-reads the row while the backup runs and nothing is heard.
"""

from __future__ import annotations

from controlpanel.events import group_send, group_send_on_commit

PHASES = {
    "": "Waiting for a worker",
    "staging": "Collecting the site's files",
    "dumping": "Dumping the database",
    "uploading": "Uploading to the repository",
    "checking": "Checking the repository",
}


def backup_group(backup_id) -> str:
    return f"backup.{backup_id}"


def progress_event(backup) -> dict:
    """The row as the Backups tab shows it while it runs (camelCase, bytes)."""
    return {
        "type": "progress",
        "id": str(backup.pk),
        "state": backup.state,
        "phase": backup.phase,
        "phaseLabel": PHASES.get(backup.phase, backup.phase)
        if backup.phase or backup.state == "queued"
        else backup.get_state_display(),
        "filesDone": backup.progress_files,
        "bytesDone": backup.progress_bytes,
        "totalFiles": backup.total_files,
        "totalBytes": backup.total_bytes,
    }


def complete_event(backup) -> dict:
    return {
        "type": "backup_complete",
        "id": str(backup.pk),
        "state": backup.state,
        "reason": backup.reason,
        "files": backup.files,
        "size": backup.size,
        "snapshotId": backup.snapshot_id,
        "duration": backup.duration,
    }


def backup_changed(backup_id) -> None:
    """The row changed (progress, or its end): read it again."""
    group_send(backup_group(backup_id), {"type": "backup.changed"})


def backup_changed_on_commit(backup_id) -> None:
    group_send_on_commit(backup_group(backup_id), {"type": "backup.changed"})
