"""Static files are collected when their sources changed, not on every start."""

from __future__ import annotations

import json
import os

import pytest
from django.contrib.staticfiles import finders

from controlpanel.staticfiles import collect_if_changed, stamp_path


@pytest.fixture
def sources(tmp_path, settings):
    source = tmp_path / "src"
    (source / "css").mkdir(parents=True)
    (source / "css" / "site.css").write_text("body { color: red }\n")
    (source / "app.js").write_text("console.log('hi')\n")
    settings.STATICFILES_DIRS = [source]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    finders.get_finder.cache_clear()
    yield source
    finders.get_finder.cache_clear()


def manifest(settings) -> dict:
    return json.loads((settings.STATIC_ROOT / "staticfiles.json").read_text())["paths"]


def test_collects_once_then_only_after_a_change(sources, settings):
    assert collect_if_changed() is True  # first start: nothing collected yet
    assert set(manifest(settings)) == {"css/site.css", "app.js"}
    assert stamp_path().exists() and stamp_path().parent != settings.STATIC_ROOT  # not served
    assert collect_if_changed() is False  # a restart with the same sources

    css = sources / "css" / "site.css"
    old = manifest(settings)["css/site.css"]
    css.write_text("body { color: blue }\n")
    stat = css.stat()
    os.utime(css, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert collect_if_changed() is True
    assert manifest(settings)["css/site.css"] != old
    assert collect_if_changed() is False

    (sources / "new.js").write_text("1\n")  # an added file counts too
    assert collect_if_changed() is True and "new.js" in manifest(settings)


def test_a_lost_manifest_is_collected_again(sources, settings):
    assert collect_if_changed() is True
    (settings.STATIC_ROOT / "staticfiles.json").unlink()
    assert collect_if_changed() is True
    assert (settings.STATIC_ROOT / "staticfiles.json").exists()


def test_debug_storage_collects_nothing(sources, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    assert collect_if_changed() is False
    assert not (settings.STATIC_ROOT / "app.js").exists()
