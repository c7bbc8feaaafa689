// The deploy wizard (the Autostack flow): one step at a time; the repository's branches with
// its default preselected; install and build commands detected from its files; a summary before
// deploying. Without JavaScript the three steps are one plain form (the server detects at build
// time).
(function () {
  "use strict";
  const form = document.querySelector("[data-wizard]");
  if (!form) return;
  const steps = Array.from(form.querySelectorAll("[data-step]"));
  const markers = Array.from(document.querySelectorAll("[data-wizard-steps] li"));
  const repoInput = form.querySelector("[name=repository]");
  const branchInput = form.querySelector("[name=branch]");
  const repoSelect = form.querySelector("[data-repo-select]");
  const branchList = document.getElementById("branch-options");
  let current = 0;

  form.classList.add("wizard-js");
  function show(index) {
    current = index;
    steps.forEach(function (step, i) { step.hidden = i !== index; });
    markers.forEach(function (marker, i) {
      if (i === index) marker.setAttribute("aria-current", "step"); else marker.removeAttribute("aria-current");
      marker.classList.toggle("done", i < index);
    });
    const focus = steps[index].querySelector("input:not([type=hidden]), select, textarea, button");
    if (focus) focus.focus();
  }

  function fieldError(input, message) {
    const field = input.closest(".field");
    let list = field.querySelector(".errors");
    if (!message) {
      field.classList.remove("has-error");
      if (list) list.remove();
      return;
    }
    field.classList.add("has-error");
    if (!list) {
      list = document.createElement("ul");
      list.className = "errors";
      field.appendChild(list);
    }
    list.innerHTML = "";
    const item = document.createElement("li");
    item.textContent = message;
    list.appendChild(item);
  }

  // The repository's branches (git ls-remote on the server) and what its files say about
  // building it. Fields the user typed in are never overwritten.
  const detectNote = form.querySelector("[data-detect-note]");
  const detectFields = { installCommand: "install_command", buildCommand: "build_command", outputDir: "output_dir" };
  let inspected = ""; // the repository whose branches are loaded
  let detectedFor = ""; // repository and branch last detected
  let pending = null;

  Object.values(detectFields).forEach(function (name) {
    const input = form.querySelector("[name=" + name + "]");
    if (input) input.addEventListener("input", function () { input.dataset.userEdited = "1"; });
  });
  branchInput.addEventListener("input", function () { branchInput.dataset.userEdited = "1"; });
  branchInput.addEventListener("change", function () { detect(); });
  repoInput.addEventListener("change", function () { inspected = ""; detectedFor = ""; });

  function api(path, params) {
    return fetch(path + "?" + new URLSearchParams(params), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          const error = body.error || {};
          throw new Error(error.message || "The server answered " + response.status + ".");
        }
        return body;
      });
    });
  }

  function note(text, state) {
    if (!detectNote) return;
    detectNote.hidden = !text;
    detectNote.textContent = text || "";
    detectNote.dataset.state = state || "";
  }

  function loadBranches() {
    const repository = repoInput.value.trim();
    if (repository === inspected) return Promise.resolve();
    note("Reading the repository's branches…", "busy");
    return api("/api/repositories/branches", { repository: repository }).then(function (data) {
      inspected = repository;
      detectedFor = "";
      branchList.innerHTML = "";
      const names = data.branches.map(function (b) { return b.name; });
      names.forEach(function (name) {
        const option = document.createElement("option");
        option.value = name;
        if (name === data.defaultBranch) option.label = name + " (default)";
        branchList.appendChild(option);
      });
      if (!branchInput.dataset.userEdited || names.indexOf(branchInput.value.trim()) === -1) {
        branchInput.value = data.defaultBranch;
        delete branchInput.dataset.userEdited;
      }
      branchInput.dataset.branches = names.join("\n");
      fieldError(branchInput, "");
      note("", "");
    });
  }

  function detect() {
    const repository = repoInput.value.trim();
    const branch = branchInput.value.trim();
    const key = repository + "\n" + branch;
    if (!repository || !branch || key === detectedFor) return;
    const known = (branchInput.dataset.branches || "").split("\n").filter(Boolean);
    if (known.length && known.indexOf(branch) === -1) {
      fieldError(branchInput, "There is no branch “" + branch + "”. Its branches: " + known.join(", ") + ".");
      return;
    }
    fieldError(branchInput, "");
    detectedFor = key;
    note("Looking at " + branch + " to detect the framework…", "busy");
    const request = api("/api/repositories/detect", { repository: repository, branch: branch }).then(function (data) {
      if (pending !== request) return;
      Object.keys(detectFields).forEach(function (field) {
        const input = form.querySelector("[name=" + detectFields[field] + "]");
        if (input && !input.dataset.userEdited) input.value = data[field] || "";
      });
      let text = data.framework ? "Detected " + data.framework + "." : "No framework detected: the files are published as they are.";
      if (data.note) text += " " + data.note;
      note(text, "done");
      summarise();
    }).catch(function (error) {
      if (pending !== request) return;
      detectedFor = "";
      note("Could not detect the framework (" + error.message + "). Fill in the commands, or leave them empty to detect them at build time.", "error");
    });
    pending = request;
  }

  if (repoSelect) {
    repoSelect.addEventListener("change", function () {
      if (!repoSelect.value) return;
      repoInput.value = repoSelect.value;
      inspected = "";
      fieldError(repoInput, "");
    });
  }

  function summarise() {
    form.querySelectorAll("[data-summary-for]").forEach(function (cell) {
      const input = form.querySelector("[name=" + cell.dataset.summaryFor + "]");
      let value = input ? input.value.trim() : "";
      if (cell.dataset.summaryFor === "env_vars") {
        // Names only: values are secrets.
        const names = value.split("\n").map(function (l) { return l.split("=")[0].trim(); }).filter(Boolean);
        value = names.length ? names.join(", ") : "";
      }
      if (!value && ["install_command", "build_command", "output_dir"].indexOf(cell.dataset.summaryFor) !== -1) {
        value = "Detected at build time";
      }
      if (cell.dataset.summaryFor === "branch" && !value) value = "The default branch";
      cell.textContent = value || "—";
    });
  }

  form.addEventListener("click", function (event) {
    if (event.target.closest("[data-next]")) {
      if (current === 0) {
        if (!repoInput.value.trim()) {
          fieldError(repoInput, "Choose a repository or enter a git URL.");
          repoInput.focus();
          return;
        }
        const button = event.target.closest("[data-next]");
        button.disabled = true;
        loadBranches().then(function () {
          show(1);
          detect();
        }, function (error) {
          note("", "");
          fieldError(repoInput, error.message);
          repoInput.focus();
        }).finally(function () { button.disabled = false; });
        return;
      }
      if (current === 1) summarise();
      show(Math.min(current + 1, steps.length - 1));
    } else if (event.target.closest("[data-back]")) {
      show(Math.max(current - 1, 0));
    }
  });
  form.addEventListener("keydown", function (event) {
    // Enter moves to the next step instead of deploying early.
    if (event.key === "Enter" && event.target.tagName === "INPUT" && current < steps.length - 1) {
      event.preventDefault();
      const next = steps[current].querySelector("[data-next]");
      if (next) next.click();
    }
  });
  form.addEventListener("submit", function () {
    const button = form.querySelector("[data-deploy]");
    if (button) { button.disabled = true; button.textContent = "Deploying…"; }
  });

  // After a refused submission, open the step holding the first error.
  const firstError = form.querySelector(".has-error, .form-errors");
  const errorStep = firstError ? steps.findIndex(function (s) { return s.contains(firstError); }) : -1;
  summarise();
  show(errorStep >= 0 ? errorStep : firstError ? 2 : 0);
})();
