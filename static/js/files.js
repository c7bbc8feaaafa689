// Berth file manager: drag-and-drop uploads of files and whole folders with a progress bar,
// popovers, and Ctrl+S in the editor. Without this file the upload form still posts normally.
(function () {
  "use strict";

  function human(bytes) {
    const units = ["bytes", "KB", "MB", "GB", "TB"];
    let n = bytes, i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + " " + units[i];
  }

  // ---- collecting files (inputs and drops), keeping relative paths ----
  function fromInput(input) {
    return Array.from(input.files).map(function (file) {
      return { file: file, path: file.webkitRelativePath || file.name };
    });
  }

  function readAll(reader) {
    // readEntries answers in chunks (100 in Chromium): call it until it answers nothing.
    return new Promise(function (resolve, reject) {
      const all = [];
      (function next() {
        reader.readEntries(function (entries) {
          if (!entries.length) return resolve(all);
          all.push.apply(all, entries);
          next();
        }, reject);
      })();
    });
  }

  function walk(entry, prefix) {
    if (entry.isFile) {
      return new Promise(function (resolve, reject) {
        entry.file(function (file) { resolve([{ file: file, path: prefix + file.name }]); }, reject);
      });
    }
    if (entry.isDirectory) {
      return readAll(entry.createReader()).then(function (children) {
        return Promise.all(children.map(function (child) {
          return walk(child, prefix + entry.name + "/");
        })).then(function (lists) { return [].concat.apply([], lists); });
      });
    }
    return Promise.resolve([]);
  }

  function fromDrop(dataTransfer) {
    const items = Array.from(dataTransfer.items || []);
    const entries = items.map(function (item) {
      return item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    }).filter(Boolean);
    if (!entries.length) {
      return Promise.resolve(Array.from(dataTransfer.files).map(function (file) {
        return { file: file, path: file.name };
      }));
    }
    return Promise.all(entries.map(function (entry) { return walk(entry, ""); }))
      .then(function (lists) { return [].concat.apply([], lists); });
  }

  // ---- sending, in batches within the per-request limits ----
  function batches(items, maxFiles, maxBytes) {
    const out = [];
    let current = [], size = 0;
    items.forEach(function (item) {
      if (current.length && (current.length >= maxFiles || size + item.file.size > maxBytes)) {
        out.push(current); current = []; size = 0;
      }
      current.push(item); size += item.file.size;
    });
    if (current.length) out.push(current);
    return out;
  }

  function send(form, batch, onProgress) {
    return new Promise(function (resolve, reject) {
      const data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      data.append("folder", form.querySelector("[name=folder]").value);
      const extract = form.querySelector("[name=extract]");
      if (extract && extract.checked) data.append("extract", "1");
      data.append("paths", JSON.stringify(batch.map(function (item) { return item.path; })));
      batch.forEach(function (item) { data.append("file", item.file, item.file.name); });
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", window.Berth ? window.Berth.csrfToken() : "");
      xhr.upload.onprogress = function (event) { if (event.lengthComputable) onProgress(event.loaded); };
      xhr.onload = function () {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
        const message = body && body.error ? body.error.message : "The upload failed (HTTP " + xhr.status + ").";
        reject(new Error(message));
      };
      xhr.onerror = function () { reject(new Error("The connection failed during the upload.")); };
      xhr.send(data);
    });
  }

  function setupUpload(form) {
    const progress = form.querySelector("[data-upload-progress]");
    const bar = progress.querySelector("progress");
    const label = form.querySelector("[data-upload-label]");
    const percent = form.querySelector("[data-upload-percent]");
    const errorBox = form.querySelector("[data-upload-error]");
    const submit = form.querySelector("[data-upload-submit]");
    const limits = {
      file: Number(form.dataset.maxFile),
      request: Number(form.dataset.maxRequest),
      files: Number(form.dataset.maxFiles),
      free: Number(form.dataset.free),
    };
    let busy = false;
    if (submit) submit.hidden = true; // choosing files starts the upload

    function fail(message) {
      errorBox.querySelector("p").textContent = message;
      errorBox.hidden = false;
    }

    function upload(items) {
      if (busy || !items.length) return;
      errorBox.hidden = true;
      const tooBig = items.find(function (item) { return item.file.size > limits.file; });
      if (tooBig) return fail("“" + tooBig.path + "” is " + human(tooBig.file.size) + "; files may be at most " + human(limits.file) + ".");
      const total = items.reduce(function (sum, item) { return sum + item.file.size; }, 0);
      const groups = batches(items, limits.files, limits.request);
      // One request is all-or-nothing on the server; several must fit the quota before the first.
      if (groups.length > 1 && total > limits.free) return fail("These files need " + human(total) + " but the site has " + human(limits.free) + " free. Nothing was uploaded.");
      busy = true;
      progress.hidden = false;
      form.classList.add("uploading");
      let done = 0, sent = 0;
      label.textContent = "Uploading " + items.length + " file" + (items.length === 1 ? "" : "s") + " (" + human(total) + ")…";
      function show(loaded) {
        const value = total ? Math.min(100, Math.round(100 * (done + loaded) / total)) : 100;
        bar.value = value;
        percent.textContent = value + "%";
      }
      let chain = Promise.resolve();
      groups.forEach(function (group) {
        chain = chain.then(function () {
          return send(form, group, show).then(function () {
            sent += 1;
            done += group.reduce(function (sum, item) { return sum + item.file.size; }, 0);
            show(0);
          });
        });
      });
      chain.then(function () {
        label.textContent = "Uploaded. Refreshing…";
        window.location.reload();
      }, function (error) {
        busy = false;
        form.classList.remove("uploading");
        progress.hidden = true;
        fail(error.message + (sent ? " (" + sent + " of " + groups.length + " batches were uploaded; reload to see them.)" : ""));
      });
    }

    form.querySelectorAll("input[type=file]").forEach(function (input) {
      input.addEventListener("change", function () { upload(fromInput(input)); input.value = ""; });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const items = [];
      form.querySelectorAll("input[type=file]").forEach(function (input) { items.push.apply(items, fromInput(input)); });
      upload(items);
    });
    ["dragenter", "dragover"].forEach(function (type) {
      form.addEventListener(type, function (event) {
        event.preventDefault();
        form.classList.add("dragging");
      });
    });
    form.addEventListener("dragleave", function (event) {
      if (!form.contains(event.relatedTarget)) form.classList.remove("dragging");
    });
    form.addEventListener("drop", function (event) {
      event.preventDefault();
      form.classList.remove("dragging");
      fromDrop(event.dataTransfer).then(upload, function () { fail("Could not read the dropped files."); });
    });
  }

  // ---- popovers (<details class="popover">): one open at a time, closed by outside clicks ----
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.popover[open]").forEach(function (details) {
      if (!details.contains(event.target)) details.open = false;
    });
  });
  document.addEventListener("toggle", function (event) {
    const details = event.target;
    if (!details.matches || !details.matches("details.popover") || !details.open) return;
    const field = details.querySelector("input[type=text]");
    if (field) { field.focus(); field.select(); }
  }, true);

  // ---- editor: Ctrl/Cmd+S saves ----
  function setupEditor(form) {
    form.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
        event.preventDefault();
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const zones = document.querySelectorAll("form[data-upload]");
    zones.forEach(setupUpload);
    if (zones.length) {
      // A drop that misses the drop zone must not navigate away to the dropped file.
      ["dragover", "drop"].forEach(function (type) {
        document.addEventListener(type, function (event) {
          if (!event.target.closest || !event.target.closest("form[data-upload]")) event.preventDefault();
        });
      });
    }
    document.querySelectorAll("form[data-editor]").forEach(setupEditor);
  });
})();
