// Berth: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  window.Berth = { csrfToken: csrfToken };

  // htmx requests carry the CSRF token.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  // Toasts: dismiss on click, fade out after a while.
  function dismiss(toast) {
    toast.classList.add("leaving");
    setTimeout(function () { toast.remove(); }, 300);
  }
  function armToasts(root) {
    root.querySelectorAll(".toast:not([data-armed])").forEach(function (toast) {
      toast.dataset.armed = "1";
      const close = toast.querySelector(".close");
      if (close) close.addEventListener("click", function () { dismiss(toast); });
      if (!toast.classList.contains("toast-error")) setTimeout(function () { dismiss(toast); }, 6000);
    });
  }
  window.Berth.toast = function (message, level) {
    let box = document.querySelector(".toasts");
    if (!box) {
      box = document.createElement("div");
      box.className = "toasts";
      box.setAttribute("role", "status");
      document.body.appendChild(box);
    }
    const toast = document.createElement("div");
    toast.className = "toast toast-" + (level || "info");
    const p = document.createElement("p");
    p.textContent = message;
    const close = document.createElement("button");
    close.className = "close";
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    toast.append(p, close);
    box.appendChild(toast);
    armToasts(box);
  };

  // Confirmation before destroying things: <form data-confirm="..." [data-confirm-text="slug"]>;
  // data-confirm-tone="primary" for a step that destroys nothing (its button is not red).
  const dialog = document.getElementById("confirm-dialog");
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.matches("form[data-confirm]") || form.dataset.confirmed === "1" || !dialog) return;
    event.preventDefault();
    const expected = form.dataset.confirmText || "";
    dialog.querySelector("[data-confirm-message]").textContent = form.dataset.confirm;
    const typed = dialog.querySelector("[data-confirm-typed]");
    const input = typed.querySelector("input");
    const ok = dialog.querySelector("[data-confirm-ok]");
    typed.hidden = !expected;
    input.value = "";
    typed.querySelector("code").textContent = expected;
    ok.disabled = Boolean(expected);
    ok.textContent = form.dataset.confirmButton || "Delete";
    ok.className = form.dataset.confirmTone === "primary" ? "btn btn-primary" : "btn btn-danger";
    input.oninput = function () { ok.disabled = input.value.trim() !== expected; };
    ok.onclick = function () {
      dialog.close();
      form.dataset.confirmed = "1";
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    };
    dialog.showModal();
    (expected ? input : ok).focus();
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-confirm-cancel]") && dialog) dialog.close();
  });

  // Copy to clipboard: <button data-copy="text"> or data-copy-target="#id".
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy], [data-copy-target]");
    if (!button) return;
    let text = button.dataset.copy;
    if (!text && button.dataset.copyTarget) {
      const target = document.querySelector(button.dataset.copyTarget);
      text = target ? (target.value || target.textContent).trim() : "";
    }
    if (!text) return;
    navigator.clipboard.writeText(text).then(
      function () { window.Berth.toast("Copied to the clipboard.", "success"); },
      function () { window.Berth.toast("Could not copy; select the text and copy it yourself.", "warning"); }
    );
  });

  // Mobile navigation.
  document.addEventListener("click", function (event) {
    const toggle = event.target.closest("[data-nav-toggle]");
    const app = document.querySelector(".app");
    if (toggle && app) app.classList.toggle("nav-open");
    else if (app && app.classList.contains("nav-open") && !event.target.closest(".sidebar")) app.classList.remove("nav-open");
  });

  // Live theme preview on the Appearance tab.
  document.addEventListener("change", function (event) {
    if (event.target.matches("input[name='theme']")) {
      document.documentElement.dataset.theme = event.target.value;
    }
  });

  document.addEventListener("DOMContentLoaded", function () { armToasts(document); });
  document.addEventListener("htmx:afterSettle", function (event) { armToasts(event.target); });
})();

// Live toasts for signed-in pages (/ws/notifications/), reconnecting with backoff.
(function () {
  "use strict";
  if (!document.body || !document.body.dataset.notify) return;
  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/notifications/");
    socket.onopen = function () { delay = 1000; };
    socket.onmessage = function (event) {
      const data = JSON.parse(event.data);
      if (data.type === "toast" && window.Berth) window.Berth.toast(data.message, data.level);
      document.dispatchEvent(new CustomEvent("berth:notification", { detail: data }));
    };
    socket.onclose = function (event) {
      if (event.code === 4401) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
