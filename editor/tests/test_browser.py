"""The editor in headless Chromium against a live server, on the page's own CSP: choose a
template, drag a block from the Blocks panel into the canvas, edit its text, autosave, reload,
publish, see the site served from its hostname, publish again, roll back; and the payloads
known to work against GrapesJS never run in the panel."""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from controlpanel.tests.browser import chromium, console_errors
from deployments.models import Deployment
from editor.models import Page
from hosting.tests.test_browser import confirm, sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def site_body(site, path: str = "/") -> str:
    return site_bytes(site, path).decode()


def site_bytes(site, path: str = "/") -> bytes:
    """GET ``path`` from the site's own hostname through the embedded site server."""
    from django.core.asgi import get_asgi_application

    from hosting.serving.app import HostRouter
    from hosting.tests.serving_support import asgi_get

    answer = asgi_get(HostRouter(get_asgi_application()), site.hostname, path)
    assert answer.status == 200, answer.body[:300]
    return answer.body


def stored(page) -> str:
    return Page.objects.get(pk=page.pk).document


def open_editor(browser, live_server, page) -> None:
    browser.get(f"{live_server.url}/pages/{page.pk}/edit/")
    wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-editor][data-ready]"))


def wait_saved(browser, after: int) -> int:
    def saved(d):
        root = d.find_element(By.CSS_SELECTOR, "[data-editor]")
        number = int(root.get_attribute("data-revision") or 0)
        return number if root.get_attribute("data-save-state") == "saved" and number > after else 0

    return wait_for(browser, saved)


# Drag a block from the Blocks panel and drop it into the canvas, with the HTML5 drag events a
# person's drag fires: dragstart on the block, then dragenter/dragover/drop inside the canvas
# frame at the drop point (one DataTransfer shared by all, as during a real drag). GrapesJS's
# own handlers (the block view's dragstart, the frame's droppable) place the block.
DRAG_BLOCK = """
const [blockEl, done] = arguments;
const pause = () => new Promise(r => setTimeout(r, 50));
const doc = document.querySelector('.gjs-frame').contentDocument;
const page = doc.querySelector('[data-gjs-type=wrapper]');
const shown = [...page.children].filter(el => el.getBoundingClientRect().height > 0);
const target = shown[shown.length - 1];
target.scrollIntoView({block: 'center'});
const data = new DataTransfer();
const rect = target.getBoundingClientRect();
const x = rect.left + rect.width / 2, y = rect.top + rect.height - 2;
const fire = (node, type, view, cx, cy) => node.dispatchEvent(new (view.DragEvent)(type, {
  bubbles: true, cancelable: true, composed: true, dataTransfer: data, clientX: cx, clientY: cy,
  view,
}));
const b = blockEl.getBoundingClientRect();
(async () => {
  fire(blockEl, 'dragstart', window, b.left + 5, b.top + 5);
  fire(target, 'dragenter', doc.defaultView, x, y);
  // GrapesJS's sorter handles moves at most once an animation frame: keep moving a while.
  for (let step = 0; step < 10; step++) {
    fire(target, 'dragover', doc.defaultView, x, y - step % 2);
    await pause();
  }
  fire(target, 'drop', doc.defaultView, x, y);
  fire(blockEl, 'dragend', window, x, y);
})().then(() => done(), error => done(String(error)));
"""

# The text components in the canvas still holding the Text block's own words.
DROPPED_IDS = """
return window.berthEditor.getWrapper().find('*')
  .filter(c => c.get('type') === 'text' && c.getInnerHTML().includes('Insert your text here'))
  .map(c => c.getId());
"""
TEXT_BLOCK = (
    "//*[contains(concat(' ', @class, ' '), ' gjs-block ')]"
    "[.//*[contains(@class, 'gjs-block-label')][normalize-space() = 'Text']]"
)


def test_template_edit_autosave_publish_and_roll_back(live_server, alice, tmp_path):
    from hosting.services import site_create

    site = site_create(owner=alice, name="Editor Site", slug="editor-site")
    with chromium() as browser:
        sign_in(browser, live_server, alice)
        browser.get(f"{live_server.url}/sites/{site.pk}/pages/")
        assert "No pages yet" in browser.page_source
        browser.find_element(By.CSS_SELECTOR, "form[data-template=landing] button").click()
        wait_for(browser, lambda d: "Added 2 pages" in d.page_source)
        home = Page.objects.get(site=site, is_home=True)
        assert Page.objects.filter(site=site).count() == 2

        open_editor(browser, live_server, home)
        # The blocks of the basic, forms and navigation plugins are there.
        blocks = browser.execute_script("return window.berthEditor.Blocks.getAll().map(b => b.id)")
        assert {"text", "image", "form", "berth-nav"} <= set(blocks)
        # The Blocks panel is open; drag its Text block into the canvas, onto the page's end.
        assert browser.find_elements(
            By.CSS_SELECTOR, ".gjs-pn-btn.gjs-pn-active[title='Open Blocks']"
        )
        text_block = wait_for(browser, lambda d: d.find_element(By.XPATH, TEXT_BLOCK))
        before = set(browser.execute_script(DROPPED_IDS))
        assert browser.execute_async_script(DRAG_BLOCK, text_block) is None
        (added_id,) = wait_for(browser, lambda d: set(d.execute_script(DROPPED_IDS)) - before)
        frame = browser.find_element(By.CSS_SELECTOR, ".gjs-frame")
        browser.switch_to.frame(frame)
        dropped = browser.find_element(By.ID, added_id)
        assert dropped.text == "Insert your text here"
        # The drop opens the text for editing; click elsewhere to leave it first.
        browser.find_element(By.CSS_SELECTOR, "footer").click()
        wait_for(browser, lambda d: dropped.get_attribute("contenteditable") != "true")
        browser.switch_to.default_content()
        wait_for(browser, lambda d: "Insert your text here" in stored(home))
        browser.execute_script(
            "window.berthEditor.getWrapper().find('#' + arguments[0])[0]"
            ".addAttributes({id: 'added-block'})",
            added_id,
        )
        # Edit its text in the canvas, as a person would: double-click, select all, type.
        browser.switch_to.frame(frame)
        block = browser.find_element(By.ID, "added-block")
        browser.execute_script("arguments[0].scrollIntoView()", block)
        from selenium.webdriver import ActionChains

        ActionChains(browser).double_click(block).perform()
        wait_for(browser, lambda d: block.get_attribute("contenteditable") == "true")
        block.send_keys(Keys.CONTROL, "a")
        block.send_keys("First published words")
        # Leave the text by clicking elsewhere (the rich text editor commits then); autosave.
        browser.find_element(By.CSS_SELECTOR, "footer").click()
        browser.switch_to.default_content()
        wait_for(browser, lambda d: "First published words" in stored(home))
        first_revision = wait_saved(browser, 1)
        home.refresh_from_db()
        assert (
            home.revision == first_revision
            and "saved" in browser.find_element(By.CSS_SELECTOR, "[data-save-status]").text.lower()
        )

        # An image from the asset manager goes into the site's files and onto the page.
        from editor.tests.test_api import PNG

        (tmp_path / "badge.png").write_bytes(PNG)
        browser.execute_script("window.berthEditor.runCommand('core:open-assets')")
        upload = wait_for(
            browser,
            lambda d: d.find_element(By.CSS_SELECTOR, ".gjs-am-file-uploader input[type=file]"),
        )
        upload.send_keys(str(tmp_path / "badge.png"))
        src = wait_for(
            browser,
            lambda d: d.execute_script(
                "const a = window.berthEditor.Assets.getAll()"
                ".filter(a => a.get('src').includes('badge'));"
                "return a.length ? a[0].get('src') : null;"
            ),
        )
        browser.execute_script("window.berthEditor.Modal.close()")
        browser.execute_script(
            "window.berthEditor.getWrapper().append({type: 'image', src: arguments[0],"
            " attributes: {alt: 'Badge', id: 'badge'}})",
            src,
        )
        wait_for(browser, lambda d: "badge.png" in stored(home))
        loaded = browser.execute_script(
            "const frame = document.querySelector('.gjs-frame').contentDocument;"
            "const img = frame.getElementById('badge');"
            "return img && img.complete && img.naturalWidth;"
        )
        assert loaded == 1
        first_revision = wait_saved(browser, first_revision)

        # Reload: the editor shows the stored document.
        open_editor(browser, live_server, home)
        html = browser.execute_script("return window.berthEditor.getHtml()")
        assert "First published words" in html

        # Publish: a deployment with source "editor", live, serving the words at the hostname.
        browser.find_element(By.CSS_SELECTOR, "[data-publish]").click()
        wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-published-deployment]"))
        first = Deployment.objects.get(site=site)
        site.refresh_from_db()
        assert first.source == Deployment.Source.EDITOR and site.live_deployment_id == first.pk
        body = site_body(site)
        assert "First published words" in body and 'href="/pricing/"' in body
        assert 'src="/assets/images/badge.png"' in body
        assert site_bytes(site, "/assets/images/badge.png") == PNG
        assert "Simple pricing" in site_body(site, "/pricing/")

        # Edit again and publish again: the new words are served.
        browser.execute_script(
            "window.berthEditor.getWrapper().find('#added-block')[0]"
            ".components('Second published words')"
        )
        wait_saved(browser, first_revision)
        browser.find_element(By.CSS_SELECTOR, "[data-publish]").click()
        wait_for(browser, lambda d: Deployment.objects.filter(site=site).count() == 2)
        wait_for(browser, lambda d: "Second published words" in site_body(site))

        # Roll back to the first publish: the first words are served again.
        browser.get(f"{live_server.url}/sites/{site.pk}/deployments/")
        rollback = f"form[action$='/deployments/{first.pk}/rollback/'] button"
        wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, rollback)).click()
        confirm(browser)
        wait_for(browser, lambda d: "Rolled back" in d.page_source)
        body = site_body(site)
        assert "First published words" in body and "Second published words" not in body

        # Every revision is kept; restoring one is a new revision.
        browser.get(f"{live_server.url}/pages/{home.pk}/revisions/")
        assert len(browser.find_elements(By.CSS_SELECTOR, "tr[data-revision]")) >= 3
        restore = "tr[data-revision='1'] form button"
        browser.find_element(By.CSS_SELECTOR, restore).click()
        confirm(browser)
        wait_for(browser, lambda d: "Restored revision 1" in d.page_source)
        assert "First published words" not in stored(home)
        assert "Second published words" in home.revisions.order_by("-number")[1].document

        errors = [e for e in console_errors(browser) if "Content Security Policy" in e]
        assert errors == []


PAYLOADS = (
    '<img id="p1" src="x" onerror="window.top.__pwned = 1">'
    '<iframe id="p2" src="javascript:window.top.__pwned = 2"></iframe>'
    '<div id="p3" title="</script><script>window.top.__pwned = 3</script>">x</div>'
    '<a id="p4" href="javascript:window.top.__pwned = 4">link</a>'
    "<script>window.top.__pwned = 5</script>"
    '<svg><image href="x" onerror="window.top.__pwned = 6"></image></svg>'
)


def test_script_payloads_never_run_in_the_panel(live_server, alice, client):
    from editor.services import page_create
    from hosting.services import site_create

    site = site_create(owner=alice, name="Payloads", slug="payloads")
    page = page_create(site=site, title="Home", author=alice)
    # Stored through the API as raw project data: the server cleans it before storing.
    client.force_login(alice)
    document = {
        "pages": [
            {
                "frames": [
                    {
                        "component": {
                            "type": "wrapper",
                            "components": [
                                {
                                    "tagName": "img",
                                    "attributes": {
                                        "id": "s1",
                                        "src": "x",
                                        "onerror": "window.top.__pwned = 11",
                                    },
                                },
                                {
                                    "tagName": "iframe",
                                    "attributes": {"src": "javascript:window.top.__pwned = 12"},
                                },
                                {
                                    "type": "text",
                                    "content": '<b onmouseover="window.top.__pwned = 13">b</b>'
                                    "<script>window.top.__pwned = 14</script>",
                                },
                                {"tagName": "script", "content": "window.top.__pwned = 15"},
                            ],
                        }
                    }
                ]
            }
        ],
        "styles": [],
    }
    answer = client.put(
        f"/api/editor/pages/{page.pk}/document",
        json.dumps({"document": document, "baseRevision": 1}),
        content_type="application/json",
    )
    assert answer.status_code == 200
    page.refresh_from_db()
    for bad in ("onerror", "onmouseover", "javascript:", "<script", '"script"'):
        assert bad not in page.document

    with chromium() as browser:
        sign_in(browser, live_server, alice)
        open_editor(browser, live_server, page)
        # Imported HTML carrying the payloads, as a paste or an import would bring it.
        browser.execute_script("window.berthEditor.addComponents(arguments[0])", PAYLOADS)
        browser.execute_script(
            "const f = document.querySelector('.gjs-frame');"
            "f.contentWindow.document.querySelector('#p1') && "
            "f.contentWindow.document.querySelector('#p4').click()"
        )
        wait_saved(browser, 1)
        pwned = browser.execute_script(
            "const f = document.querySelector('.gjs-frame').contentWindow;"
            "return [window.__pwned, f.__pwned];"
        )
        assert pwned == [None, None]
        canvas = browser.execute_script(
            "return document.querySelector('.gjs-frame').contentWindow.document.body.innerHTML"
        )
        assert "onerror" not in canvas and "javascript:" not in canvas
        page.refresh_from_db()
        assert "onerror" not in page.document and "javascript:" not in page.document
        # The private preview is sandboxed as well.
        browser.get(f"{live_server.url}/pages/{page.pk}/preview/")
        assert browser.execute_script("return window.__pwned") is None


SET_TEXT = """
const wrapper = window.berthEditor.getWrapper();
let target = wrapper.find('#words')[0];
if (!target) { target = wrapper.append({type: 'text', attributes: {id: 'words'}})[0]; }
target.components(arguments[0]);
"""


def test_two_tabs_on_one_page_learn_of_the_conflict(live_server, alice):
    from editor.services import page_create
    from hosting.services import site_create

    site = site_create(owner=alice, name="Two tabs", slug="two-tabs")
    page = page_create(site=site, title="Home", author=alice)
    with chromium() as browser:
        sign_in(browser, live_server, alice)
        open_editor(browser, live_server, page)
        first_tab = browser.current_window_handle
        browser.switch_to.new_window("tab")
        open_editor(browser, live_server, page)
        browser.execute_script(SET_TEXT, "Written in the second tab")
        wait_saved(browser, 1)

        browser.switch_to.window(first_tab)
        browser.execute_script(SET_TEXT, "Written in the first tab")
        banner = browser.find_element(By.CSS_SELECTOR, "[data-conflict]")
        wait_for(browser, lambda d: banner.is_displayed())
        status = browser.find_element(By.CSS_SELECTOR, "[data-save-status]")
        assert "changed elsewhere" in status.text
        assert "second tab" in stored(page)  # nothing was overwritten silently

        # Overwrite on purpose: the first tab's words are stored, the second tab's kept as a
        # revision.
        browser.find_element(By.CSS_SELECTOR, "[data-conflict-overwrite]").click()
        wait_saved(browser, 2)
        assert "first tab" in stored(page)
        assert "second tab" in Page.objects.get(pk=page.pk).revisions.get(number=2).document

        # The second tab is now the stale one; it reloads the stored version.
        browser.switch_to.window(browser.window_handles[1])
        browser.execute_script(SET_TEXT, "Second tab again")
        banner = browser.find_element(By.CSS_SELECTOR, "[data-conflict]")
        wait_for(browser, lambda d: banner.is_displayed())
        browser.execute_script("window.onbeforeunload = null")
        browser.find_element(By.CSS_SELECTOR, "[data-conflict-reload]").click()
        wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-editor][data-ready]"))
        html = browser.execute_script("return window.berthEditor.getHtml()")
        assert "first tab" in html and "Second tab again" not in html


def test_a_viewer_sees_the_editor_read_only(live_server, alice, bob):
    from editor.services import page_create
    from hosting.services import site_create
    from teams.models import Membership, Role

    site = site_create(owner=alice, name="Read only", slug="read-only")
    page = page_create(site=site, title="Home", author=alice)
    Membership.objects.create(team=site.team, user=bob, role=Role.VIEWER)
    with chromium() as browser:
        sign_in(browser, live_server, bob)
        open_editor(browser, live_server, page)
        status = browser.find_element(By.CSS_SELECTOR, "[data-save-status]")
        assert "Read only" in status.text
        assert not browser.find_elements(By.CSS_SELECTOR, "[data-publish]")
        browser.execute_script(SET_TEXT, "A viewer's words")
        browser.execute_script("return new Promise(r => setTimeout(r, 2500))")
        assert Page.objects.get(pk=page.pk).revision == 1
