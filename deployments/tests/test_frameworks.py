"""Framework detection, one test per framework, on real files written to temporary folders."""

from __future__ import annotations

import json
import shutil

import pytest

from deployments.frameworks import Detection, DirectoryFiles, detect, detect_directory


def write(root, tree: dict[str, str | dict]):
    for path, content in tree.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(content) if isinstance(content, dict) else content)
    return root


def package(deps=None, dev=None, scripts=None) -> dict:
    return {
        "name": "app",
        "scripts": scripts or {},
        "dependencies": deps or {},
        "devDependencies": dev or {},
    }


def found(tmp_path, tree) -> Detection:
    return detect_directory(write(tmp_path, tree))


def test_vite(tmp_path):
    got = found(
        tmp_path,
        {
            "package.json": package(dev={"vite": "^5"}, scripts={"build": "tsc -b && vite build"}),
            "package-lock.json": "{}",
            "vite.config.ts": "export default defineConfig({ plugins: [react()] })\n",
        },
    )
    assert got == Detection("Vite", "npm ci", "npm run build", "dist")


def test_vite_with_its_own_output_directory_and_pnpm(tmp_path):
    got = found(
        tmp_path,
        {
            "package.json": package(dev={"vite": "^5"}),
            "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
            "vite.config.js": "export default { build: { outDir: 'public_html' } }\n",
        },
    )
    assert got == Detection(
        "Vite", "pnpm install --frozen-lockfile", "npx vite build", "public_html"
    )


def test_nextjs_static_export(tmp_path):
    got = found(
        tmp_path,
        {
            "package.json": package(
                deps={"next": "14", "react": "18"}, scripts={"build": "next build"}
            ),
            "yarn.lock": "",
            "next.config.mjs": "const config = { output: 'export' };\nexport default config;\n",
        },
    )
    assert got == Detection(
        "Next.js (static export)", "yarn install --frozen-lockfile", "yarn run build", "out"
    )


def test_nextjs_without_export_says_what_is_missing(tmp_path):
    got = found(
        tmp_path, {"package.json": package(deps={"next": "14"}, scripts={"build": "next build"})}
    )
    assert got.framework == "Next.js" and got.output_dir == "out"
    assert "output: 'export'" in got.note


def test_astro(tmp_path):
    got = found(
        tmp_path,
        {
            "package.json": package(deps={"astro": "^4"}, scripts={"build": "astro build"}),
            "package-lock.json": "{}",
            "astro.config.mjs": "import { defineConfig } from 'astro/config';\n"
            "export default defineConfig({});\n",
        },
    )
    assert got == Detection("Astro", "npm ci", "npm run build", "dist")


def test_sveltekit_static(tmp_path):
    got = found(
        tmp_path,
        {
            "package.json": package(
                dev={"@sveltejs/kit": "^2", "@sveltejs/adapter-static": "^3", "vite": "^5"},
                scripts={"build": "vite build"},
            ),
            "package-lock.json": "{}",
            "svelte.config.js": "import adapter from '@sveltejs/adapter-static';\n"
            "export default { kit: { adapter: adapter({ pages: 'out', assets: 'out' }) } };\n",
        },
    )
    assert got == Detection("SvelteKit (static)", "npm ci", "npm run build", "out")


def test_sveltekit_without_the_static_adapter_says_so(tmp_path):
    got = found(tmp_path, {"package.json": package(dev={"@sveltejs/kit": "^2", "vite": "^5"})})
    assert got.framework == "SvelteKit" and "adapter-static" in got.note


def test_vue_cli(tmp_path):
    got = found(
        tmp_path,
        {
            "package.json": package(
                deps={"vue": "^3"},
                dev={"@vue/cli-service": "~5"},
                scripts={"build": "vue-cli-service build"},
            ),
            "package-lock.json": "{}",
        },
    )
    assert got == Detection("Vue CLI", "npm ci", "npm run build", "dist")


def test_create_react_app(tmp_path):
    got = found(
        tmp_path,
        {
            "package.json": package(
                deps={"react": "^18", "react-scripts": "5.0.1"},
                scripts={"build": "react-scripts build"},
            ),
            "package-lock.json": "{}",
            "public/index.html": "<div id=root></div>",
        },
    )
    assert got == Detection("Create React App", "npm ci", "npm run build", "build")


def test_mkdocs_with_requirements(tmp_path):
    got = found(
        tmp_path,
        {
            "mkdocs.yml": "site_name: Docs\nnav:\n  - index.md\n",
            "requirements.txt": "mkdocs==1.6.1\n",
            "docs/index.md": "# Hello\n",
        },
    )
    assert got == Detection(
        "MkDocs",
        "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt",
        ".venv/bin/mkdocs build",
        "site",
    )


def test_mkdocs_without_requirements_and_its_own_site_dir(tmp_path):
    got = found(
        tmp_path, {"mkdocs.yml": "site_name: Docs\nsite_dir: 'public'\n", "docs/index.md": "#"}
    )
    assert got.install_command == "python3 -m venv .venv && .venv/bin/pip install mkdocs"
    assert got.output_dir == "public"


def test_hugo(tmp_path):
    got = found(
        tmp_path,
        {
            "hugo.toml": "baseURL = 'https://example.org/'\ntitle = 'Blog'\n",
            "content/_index.md": "hi",
        },
    )
    assert (got.framework, got.build_command, got.output_dir) == ("Hugo", "hugo --minify", "public")
    assert ("not installed" in got.note) == (shutil.which("hugo") is None)


def test_a_config_toml_alone_is_not_hugo(tmp_path):
    got = found(tmp_path, {"config.toml": "[tool]\n", "index.html": "<h1>hi</h1>"})
    assert got.framework == "Static site"


@pytest.mark.parametrize("folder", [".", "public", "docs"])
def test_plain_static(tmp_path, folder):
    index = "index.html" if folder == "." else f"{folder}/index.html"
    got = found(tmp_path, {index: "<!doctype html><h1>Hello</h1>", "README.md": "# Site"})
    assert got == Detection("Static site", "", "", folder)


def test_nothing_recognised_keeps_the_lockfile_install(tmp_path):
    assert found(tmp_path, {"README.md": "# notes"}) == Detection()
    assert found(tmp_path, {"requirements.txt": "requests\n"}).install_command.endswith(
        "-r requirements.txt"
    )


def test_an_unknown_node_project_with_a_build_script(tmp_path):
    got = found(tmp_path, {"package.json": package(scripts={"build": "node build.js"})})
    assert got.framework == "Node.js" and got.build_command == "npm run build"
    assert got.install_command == "npm install"


def test_broken_or_linked_files_are_ignored(tmp_path):
    (tmp_path / "package.json").write_text("{not json")
    (tmp_path / "index.html").write_text("<h1>hi</h1>")
    assert detect_directory(tmp_path).framework == "Static site"
    outside = tmp_path.parent / "outside.yml"
    outside.write_text("site_name: secret\n")
    (tmp_path / "mkdocs.yml").symlink_to(outside)
    files = DirectoryFiles(tmp_path)
    assert not files.is_file("mkdocs.yml") and files.read("mkdocs.yml") is None
    assert files.read("../outside.yml") is None
    assert detect(files).framework == "Static site"


def test_an_output_directory_outside_the_repository_is_not_taken(tmp_path):
    got = found(
        tmp_path,
        {
            "package.json": package(dev={"vite": "^5"}),
            "vite.config.js": "export default { build: { outDir: '../../etc' } }\n",
        },
    )
    assert got.output_dir == "dist"
