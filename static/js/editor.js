// Berth: the visual editor page. GrapesJS edits the page's document; every change is saved
// through the API a couple of seconds later (each save a revision, based on the revision this
// tab last saw, so a save from another tab is never overwritten silently).
(function () {
  "use strict";
  const root = document.querySelector("[data-editor]");
  if (!root || !window.grapesjs) return;
  const config = JSON.parse(document.getElementById("editor-config").textContent);
  const statusEl = root.querySelector("[data-save-status]");
  const conflictEl = root.querySelector("[data-conflict]");
  const publishedEl = root.querySelector("[data-published]");
  const SAVE_DELAY = 1500;
  const RETRY_DELAY = 5000;
  let revision = config.revision;
  let dirty = false, saving = false, conflict = false, timer = null, loading = true;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
    root.dataset.saveState = state;
    root.dataset.revision = String(revision);
  }

  function plugin(name) {
    const found = window[name];
    if (!found) return null;
    return typeof found === "function" ? found : found.default;
  }

  // The site navigation block: filled with the site's pages when published, shown the same here.
  function navigationPlugin(editor) {
    editor.DomComponents.addType("berth-nav", {
      isComponent: function (el) {
        return el.tagName === "NAV" && el.classList && el.classList.contains("berth-nav");
      },
      model: {
        defaults: { tagName: "nav", droppable: false, classes: ["berth-nav"], name: "Site navigation" },
      },
      view: {
        onRender: function () {
          const doc = this.el.ownerDocument;
          const list = doc.createElement("ul");
          config.nav.forEach(function (item) {
            const li = doc.createElement("li");
            const a = doc.createElement("a");
            a.setAttribute("href", item.path);
            if (item.current) a.setAttribute("aria-current", "page");
            a.textContent = item.title;
            li.appendChild(a);
            list.appendChild(li);
          });
          this.el.replaceChildren(list);
        },
      },
    });
    editor.BlockManager.add("berth-nav", {
      label: "Site navigation",
      category: "Site",
      media: '<svg viewBox="0 0 24 24" width="40" height="40"><path fill="currentColor" d="M3 6h18v2H3zm0 5h18v2H3zm0 5h18v2H3z"/></svg>',
      content: { type: "berth-nav" },
    });
  }

  const plugins = [navigationPlugin];
  const pluginsOpts = {};
  [["gjs-blocks-basic", { flexGrid: true }], ["grapesjs-plugin-forms", {}], ["grapesjs-preset-webpage", {}]]
    .forEach(function (entry) {
      const found = plugin(entry[0]);
      if (found) { plugins.push(found); pluginsOpts[found] = entry[1]; }
    });

  const editor = window.grapesjs.init({
    container: "#gjs",
    height: "100%",
    fromElement: false,
    projectData: config.document,
    storageManager: false,
    cssIcons: "",
    showOffsets: true,
    noticeOnUnload: false,
    parser: { optionsHtml: { allowScripts: false, allowUnsafeAttr: false, allowUnsafeAttrValue: false } },
    deviceManager: {
      devices: [
        { id: "Desktop", name: "Desktop", width: "" },
        { id: "Tablet", name: "Tablet", width: "770px", widthMedia: "992px" },
        { id: "Phone", name: "Phone", width: "360px", widthMedia: "768px" },
      ],
    },
    assetManager: {
      assets: config.assets,
      upload: config.canEdit ? config.assetsUrl : false,
      uploadName: "file",
      multiUpload: false,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      autoAdd: true,
    },
    plugins: plugins,
    pluginsOpts: pluginsOpts,
  });
  window.berthEditor = editor;

  // GrapesJS's panels (style manager, traits, colour picker) draw fields without labels: name
  // each from its property's label so screen readers can tell them apart.
  function labelFields() {
    document.querySelectorAll("input, select, textarea").forEach(function (field) {
      if (field.type === "hidden" || (field.labels && field.labels.length) || field.hasAttribute("aria-label")) return;
      const holder = field.closest(".gjs-sm-property, .gjs-trt-trait, .gjs-clm-tags, .gjs-sm-layer");
      const labelEl = holder && holder.querySelector(".gjs-sm-label, .gjs-label, .gjs-trt-trait__label, .gjs-sm-layer__name");
      let text = labelEl ? labelEl.textContent.trim() : "";
      if (field.classList.contains("gjs-input-unit")) text = (text ? text + " " : "") + "unit";
      if (!text && field.classList.contains("sp-input")) text = "Colour";
      if (!text && field.id === "gjs-clm-states") text = "State";
      if (!text && field.id === "gjs-clm-new") text = "New class";
      field.setAttribute("aria-label", text || field.getAttribute("placeholder") || "Value");
    });
  }
  let labelling = false;
  new MutationObserver(function () {
    if (labelling) return;
    labelling = true;
    window.requestAnimationFrame(function () { labelFields(); labelling = false; });
  }).observe(document.body, { childList: true, subtree: true });
  labelFields();

  function scheduleSave(delay) {
    clearTimeout(timer);
    timer = setTimeout(save, delay === undefined ? SAVE_DELAY : delay);
  }

  function save(overwrite) {
    if (conflict && !overwrite) return Promise.resolve(false);
    if (!config.canEdit) return Promise.resolve(false);
    if (saving) { scheduleSave(); return Promise.resolve(false); }
    if (!dirty && !overwrite) return Promise.resolve(true);
    saving = true;
    dirty = false;
    setStatus("saving", "Saving…");
    const body = JSON.stringify({ document: editor.getProjectData(), baseRevision: overwrite ? null : revision });
    return fetch(config.documentUrl, {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: body,
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        saving = false;
        if (response.ok) {
          revision = data.revision;
          conflict = false;
          conflictEl.hidden = true;
          setStatus(dirty ? "dirty" : "saved", dirty ? "Unsaved changes" : "Saved · revision " + revision);
          if (dirty) scheduleSave();
          return true;
        }
        dirty = true;
        if (response.status === 409) {
          conflict = true;
          conflictEl.hidden = false;
          setStatus("conflict", "Not saved: changed elsewhere");
        } else {
          const message = data.error ? data.error.message : "The server refused the save.";
          setStatus("error", "Not saved: " + message);
          if (response.status >= 500 || response.status === 429) scheduleSave(RETRY_DELAY);
        }
        return false;
      });
    }).catch(function () {
      saving = false;
      dirty = true;
      setStatus("offline", "Offline: will retry");
      scheduleSave(RETRY_DELAY);
      return false;
    });
  }

  editor.on("asset:upload:response", function () { setStatus(statusEl.dataset.state, statusEl.textContent); });
  editor.on("asset:upload:error", function (error) {
    let message = "the image was refused";
    try { message = JSON.parse(String(error && (error.message || error))).error.message; } catch (e) { /* not JSON */ }
    setStatus("error", "Image not uploaded: " + message);
  });

  editor.on("load", function () {
    loading = false;
    if (config.canEdit) setStatus("saved", "Saved · revision " + revision);
    else setStatus("readonly", "Read only: your role cannot change pages");
    root.dataset.ready = "1";
  });
  editor.on("update", function () {
    if (loading || !config.canEdit) return;
    dirty = true;
    if (!conflict) setStatus("dirty", "Unsaved changes");
    scheduleSave();
  });
  window.addEventListener("online", function () { if (dirty) scheduleSave(0); });
  window.addEventListener("beforeunload", function (event) {
    if (dirty || saving) { event.preventDefault(); event.returnValue = ""; }
  });

  root.querySelector("[data-conflict-reload]").addEventListener("click", function () {
    dirty = false;
    window.location.reload();
  });
  root.querySelector("[data-conflict-overwrite]").addEventListener("click", function () {
    conflict = false;
    save(true);
  });

  root.querySelectorAll("[data-device]").forEach(function (button) {
    button.addEventListener("click", function () {
      editor.setDevice(button.dataset.device);
      root.querySelectorAll("[data-device]").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b === button));
      });
    });
  });

  const switcher = root.querySelector("[data-page-switch]");
  switcher.addEventListener("change", function () {
    save().then(function () { window.location.href = switcher.value; });
  });

  const publish = root.querySelector("[data-publish]");
  if (publish) {
    publish.addEventListener("click", function () {
      publish.disabled = true;
      clearTimeout(timer);
      save().then(function (saved) {
        if (!saved) { publish.disabled = false; return null; }
        setStatus("saving", "Publishing…");
        return fetch(config.publishUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        }).then(function (response) {
          return response.json().then(function (data) {
            publish.disabled = false;
            if (!response.ok) {
              setStatus("error", "Not published: " + (data.error ? data.error.message : response.status));
              return;
            }
            setStatus("saved", "Published · revision " + revision);
            publishedEl.hidden = false;
            publishedEl.textContent = "Published: " + data.url + " is serving this version. ";
            const a = document.createElement("a");
            a.href = data.url;
            a.target = "_blank";
            a.rel = "noopener";
            a.textContent = "Open the site";
            publishedEl.appendChild(a);
            root.dataset.publishedDeployment = data.id;
          });
        });
      }).catch(function () {
        publish.disabled = false;
        setStatus("offline", "Offline: not published");
      });
    });
  }
})();
