// The public status page, live: service_update and metrics_update events from the status
// stream; when the WebSocket is unavailable, the same data polled from /api/status/services.
(function () {
  "use strict";
  var page = document.querySelector("[data-status-stream]");
  if (!page) return;
  var liveState = page.querySelector("[data-live-state]");
  var pollTimer = null;
  var retry = 1000;

  function text(el, value) { if (el) el.textContent = value; }

  function setTone(el, prefix, status) {
    if (!el) return;
    el.className = el.className.replace(new RegExp("\\b" + prefix + "-\\w+", "g"), "").trim();
    el.classList.add(prefix + "-" + status);
  }

  function overall() {
    var states = Array.prototype.map.call(
      page.querySelectorAll("[data-service] [data-field=status]"),
      function (el) { return el.dataset.status || el.textContent.toLowerCase(); }
    );
    var status = "operational", message = "All systems operational";
    if (states.indexOf("down") >= 0) { status = "down"; message = "Some systems are down"; }
    else if (states.indexOf("degraded") >= 0) { status = "degraded"; message = "Some systems are degraded"; }
    var banner = page.querySelector("[data-overall]");
    setTone(banner, "status", status);
    text(page.querySelector("[data-overall-message]"), message);
  }

  function serviceUpdate(event) {
    var card = page.querySelector('[data-service="' + event.slug + '"]');
    if (!card) return;
    var pill = card.querySelector("[data-field=status]");
    pill.dataset.status = event.status;
    text(pill, event.status.charAt(0).toUpperCase() + event.status.slice(1));
    setTone(pill, "status", event.status);
    text(card.querySelector("[data-field=uptime]"), event.uptime === null ? "—" : event.uptime + "%");
    text(card.querySelector("[data-field=responseTime]"), event.responseTime === null ? "—" : event.responseTime + " ms");
    text(card.querySelector("[data-field=message]"), event.message || "");
    overall();
  }

  function metricsUpdate(metrics) {
    Object.keys(metrics).forEach(function (key) {
      text(page.querySelector('[data-metric="' + key + '"]'), metrics[key]);
    });
  }

  function poll() {
    fetch(page.dataset.statusPoll, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body) body.services.forEach(serviceUpdate); })
      .catch(function () {});
  }

  function startPolling() {
    text(liveState, "Updating every 10 s");
    if (!pollTimer) pollTimer = setInterval(poll, 10000);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try { socket = new WebSocket(scheme + location.host + page.dataset.statusStream); }
    catch (e) { startPolling(); return; }
    socket.onopen = function () {
      retry = 1000;
      text(liveState, "Live");
      if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    };
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (event.type === "service_update") serviceUpdate(event);
      else if (event.type === "metrics_update") metricsUpdate(event.metrics);
    };
    socket.onclose = function () {
      startPolling();
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 60000);
    };
  }

  connect();
})();
