// Berth: a WordPress site's page follows its provisioning and a core update under way; it
// reloads when either ends.
(function () {
  "use strict";
  const head = document.querySelector("[data-wordpress-site]");
  if (!head) return;
  const provisioning = head.dataset.status === "provisioning";
  const updating = head.dataset.update === "queued" || head.dataset.update === "running";
  if (!provisioning && !updating) return;
  const url = head.dataset.statusUrl;
  let delay = 1000;

  function done(data) {
    if (provisioning) return data.status !== "provisioning";
    return data.update.state !== "queued" && data.update.state !== "running";
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && done(data)) { window.location.reload(); return; }
        delay = Math.min(delay * 1.5, 5000);
        setTimeout(poll, delay);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, delay);
})();
