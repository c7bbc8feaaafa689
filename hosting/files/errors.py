"""What can go wrong with a site's files, each with the API code and HTTP status it answers."""

from __future__ import annotations


class FileError(Exception):
    """A refused file operation; ``code`` and ``status`` become the API envelope."""

    code = "FILE_ERROR"
    status = 422

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class PathInvalid(FileError):
    code = "PATH_INVALID"
    status = 422


class FileNotFound(FileError):
    code = "FILE_NOT_FOUND"
    status = 404


class PathConflict(FileError):
    code = "PATH_CONFLICT"
    status = 409


class QuotaExceeded(FileError):
    code = "QUOTA_EXCEEDED"
    status = 413


class TooLarge(FileError):
    """A file, a request or an archive over the configured limits (docs/sites-and-files.md)."""

    code = "PAYLOAD_TOO_LARGE"
    status = 413


class ArchiveInvalid(FileError):
    code = "ARCHIVE_INVALID"
    status = 422


class NotEditable(FileError):
    code = "NOT_EDITABLE"
    status = 422


class StorageFull(FileError):
    """The disk (or quota) under the storage ran out while writing: nothing was kept."""

    code = "STORAGE_FULL"
    status = 507
