// Berth: a WordPress site's page follows its provisioning; it reloads when the status changes.
(function () {
  "use strict";
  const head = document.querySelector("[data-wordpress-site]");
  if (!head || head.dataset.status !== "provisioning") return;
  const url = head.dataset.statusUrl;
  let delay = 1000;

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.status !== "provisioning") { window.location.reload(); return; }
        delay = Math.min(delay * 1.5, 5000);
        setTimeout(poll, delay);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, delay);
})();
