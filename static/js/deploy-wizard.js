// The deploy wizard (the Autostack flow): one step at a time, GitHub repositories and branches, a summary
// before deploying. Without JavaScript the three steps are one plain form.
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

  function loadBranches(fullName, defaultBranch) {
    if (!branchList) return;
    branchList.innerHTML = "";
    if (defaultBranch) branchInput.value = defaultBranch;
    fetch("/api/github/repos/" + fullName + "/branches", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { branches: [] }; })
      .then(function (data) {
        (data.branches || []).forEach(function (branch) {
          const option = document.createElement("option");
          option.value = branch.name;
          branchList.appendChild(option);
        });
      })
      .catch(function () {});
  }

  if (repoSelect) {
    repoSelect.addEventListener("change", function () {
      if (!repoSelect.value) return;
      repoInput.value = repoSelect.value;
      fieldError(repoInput, "");
      loadBranches(repoSelect.value, repoSelect.selectedOptions[0].dataset.defaultBranch);
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
      if (cell.dataset.summaryFor === "install_command" && !value) value = "Detected from the lockfile";
      if (cell.dataset.summaryFor === "build_command" && !value) value = "None (publish as is)";
      cell.textContent = value || "—";
    });
  }

  form.addEventListener("click", function (event) {
    if (event.target.closest("[data-next]")) {
      if (current === 0 && !repoInput.value.trim()) {
        fieldError(repoInput, "Choose a repository or enter a git URL.");
        repoInput.focus();
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
