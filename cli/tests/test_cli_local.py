"""The client's own pieces, without a server: the config file and scanning a folder."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest
from click.testing import CliRunner

from berth_cli import config
from berth_cli.folder import FolderError, scan
from berth_cli.main import cli


def test_the_config_file_is_private_even_when_it_existed_with_loose_bits(tmp_path):
    path = tmp_path / "berth" / "config.json"
    path.parent.mkdir()
    path.write_text("{}")
    path.chmod(0o644)
    config.save(config.Config(url="https://panel.example", token="secret"), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config.load(path).token == "secret"
    assert config.load(tmp_path / "absent.json") == config.Config()


def test_the_config_lives_in_the_users_config_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config.config_path() == tmp_path / "xdg" / "berth" / "config.json"


def test_a_folder_is_hashed_without_version_control_and_links_are_refused(tmp_path):
    (tmp_path / "site" / "css").mkdir(parents=True)
    (tmp_path / "site" / "index.html").write_bytes(b"<h1>Hi</h1>")
    (tmp_path / "site" / "css" / "a.css").write_bytes(b"body{}")
    (tmp_path / "site" / ".git").mkdir()
    (tmp_path / "site" / ".git" / "config").write_bytes(b"[core]")
    found = {f.path: f.digest for f in scan(tmp_path / "site")}
    assert found == {
        "css/a.css": hashlib.sha256(b"body{}").hexdigest(),
        "index.html": hashlib.sha256(b"<h1>Hi</h1>").hexdigest(),
    }
    os.symlink("/etc/passwd", tmp_path / "site" / "passwd")
    with pytest.raises(FolderError, match="symbolic link"):
        scan(tmp_path / "site")
    with pytest.raises(FolderError, match="not a folder"):
        scan(tmp_path / "nowhere")


def test_commands_say_how_to_sign_in_when_nobody_did(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for name in ("BERTH_URL", "BERTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    answer = CliRunner().invoke(cli, ["sites", "list"])
    assert answer.exit_code != 0 and "berth login" in answer.output
    answer = CliRunner().invoke(cli, ["--url", "http://127.0.0.1:9", "sites", "list"])
    assert answer.exit_code != 0 and "BERTH_TOKEN" in answer.output


def test_login_takes_the_panel_address_after_the_command_as_the_readme_writes_it(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("BERTH_URL", raising=False)
    # Nothing listens on port 9: the address given after `login` is the one it tries.
    answer = CliRunner().invoke(
        cli,
        ["login", "--url", "http://127.0.0.1:9/", "--email", "a@example.com", "--password-stdin"],
        input="secret\n",
    )
    assert "No such option" not in answer.output
    assert answer.exit_code == 1
    assert "Could not reach http://127.0.0.1:9" in answer.output
    assert not (tmp_path / "berth" / "config.json").exists()
