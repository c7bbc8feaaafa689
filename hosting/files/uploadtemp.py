"""Upload bodies spooled to a temporary folder that may be full.

An upload larger than ``FILE_UPLOAD_MAX_MEMORY_SIZE`` is written to a temporary file
(``FILE_UPLOAD_TEMP_DIR``, or the system's temporary folder) before any view sees it: by
Django's upload handler for each file, and under ASGI first by the handler that receives the
request body. When that folder's disk is full, the request answers 507 STORAGE_FULL as every
other full-disk write does (hosting.files.whole), and the partly written temporary file is
removed, instead of a 500.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress

from django.conf import settings
from django.core.exceptions import RequestAborted
from django.core.files import uploadhandler
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse

from hosting.files.errors import StorageFull
from hosting.files.whole import disk_full, storage_full


class TemporaryFileUploadHandler(uploadhandler.TemporaryFileUploadHandler):
    """Django's handler (``FILE_UPLOAD_HANDLERS``); a full disk raises StorageFull, whole
    files received earlier in the request are removed by Django's parser as it gives up."""

    def new_file(self, *args, **kwargs):
        try:
            super().new_file(*args, **kwargs)
        except OSError as exc:
            self._give_up(exc)

    def receive_data_chunk(self, raw_data, start):
        try:
            super().receive_data_chunk(raw_data, start)
        except OSError as exc:
            self._give_up(exc)

    def file_complete(self, file_size):
        try:
            self.file.flush()  # a buffered write may report the full disk only now
        except OSError as exc:
            self._give_up(exc)
        return super().file_complete(file_size)

    def _give_up(self, exc: OSError):
        upload = self.__dict__.pop("file", None)
        if upload is not None:
            path = upload.temporary_file_path()
            with suppress(OSError):  # closing flushes, which fails again on a full disk
                upload.close()
            with suppress(FileNotFoundError):
                os.remove(path)
        if disk_full(exc):
            raise upload_storage_full(self.file_name) from exc
        raise exc


def upload_storage_full(name: str | None) -> StorageFull:
    return storage_full(f"the upload “{name}”" if name else "the upload")


class BodySpooledASGIHandler(ASGIHandler):
    """Django's ASGI handler, whose request body spooled to a full disk answers 507."""

    async def read_body(self, receive):
        body_file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - handed to the request
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
            mode="w+b",
            dir=settings.FILE_UPLOAD_TEMP_DIR,
        )
        try:
            spooled = await self._spool(receive, body_file)
        except BaseException:
            with suppress(OSError):
                body_file.close()
            raise
        spooled.seek(0)
        return spooled

    @staticmethod
    async def _spool(receive, body_file):
        full = None
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise RequestAborted()
            if "body" in message and full is None:
                try:
                    body_file.write(message["body"])
                except OSError as exc:
                    if not disk_full(exc):
                        raise
                    full = exc  # read the rest of the body, so the client hears the answer
            if not message.get("more_body", False):
                break
        if full is not None:
            raise upload_storage_full(None) from full
        return body_file

    async def handle(self, scope, receive, send):
        try:
            return await super().handle(scope, receive, send)
        except StorageFull as exc:  # only read_body raises it: nothing was sent yet
            await self.send_response(self.storage_full_response(scope, exc), send)

    @staticmethod
    def storage_full_response(scope, exc: StorageFull) -> HttpResponse:
        headers = dict(scope.get("headers") or [])
        wants_json = scope.get("path", "").startswith("/api/") or b"json" in headers.get(
            b"accept", b""
        )
        if wants_json:
            # The API's envelope (with DRF) loads here, not in a WebSocket-only ASGI server.
            from controlpanel.api.exceptions import error_response

            return error_response(exc.status, exc.code, exc.message, exc.details)
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
