"""Keep the templates shipped with Berth in the database after every migrate."""

from __future__ import annotations


def starters_install(sender=None, **kwargs) -> None:
    from editor.services import template_sync_builtin
    from editor.starters import load_starters

    template_sync_builtin(load_starters())
