// Deployment page: the live build log over WebSocket (the Autostack client's events), stage updates.
// Auto-scroll follows new lines until the reader scrolls up; a reconnect resumes after the last
// line shown (?after=<seq>), so nothing is shown twice. It asks for lines several to a message
// (?batch=1: "logs" events), which a fast build's burst needs.
(function () {
  "use strict";
  const box = document.getElementById("build-log");
  if (!box || !window.WebSocket) return;
  const FINAL = ["success", "failed", "cancelled"];
  const MAX_LINES = 5000; // kept in the page; the full log is a link away
  const followButton = document.querySelector("[data-log-follow]");
  const stateLabel = document.querySelector("[data-log-state]");
  let lastSeq = parseInt(box.dataset.lastSeq || "0", 10);
  let done = FINAL.indexOf(box.dataset.status) !== -1;
  let follow = true;
  let pending = [];
  let scheduled = false;
  let delay = 500;
  let socket = null;

  function atBottom() { return box.scrollHeight - box.scrollTop - box.clientHeight < 30; }
  function setState(text) { if (stateLabel) stateLabel.textContent = text; }
  function setFollow(value) {
    follow = value;
    if (followButton) followButton.hidden = value;
    if (value) box.scrollTop = box.scrollHeight;
  }
  box.addEventListener("scroll", function () {
    const bottom = atBottom();
    if (bottom !== follow) setFollow(bottom);
  });
  if (followButton) followButton.addEventListener("click", function () { setFollow(true); });
  box.scrollTop = box.scrollHeight;

  function time(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour12: false });
  }

  function render() {
    scheduled = false;
    const empty = box.querySelector("[data-log-empty]");
    if (empty && pending.length) empty.remove();
    const fragment = document.createDocumentFragment();
    pending.forEach(function (event) {
      const line = document.createElement("div");
      line.className = "line " + (event.level || "info");
      line.dataset.seq = event.seq;
      const ts = document.createElement("span");
      ts.className = "ts";
      ts.textContent = time(event.timestamp);
      const msg = document.createElement("span");
      msg.className = "msg";
      msg.textContent = event.message;
      line.append(ts, msg);
      fragment.appendChild(line);
    });
    pending = [];
    box.appendChild(fragment);
    let extra = box.children.length - MAX_LINES;
    while (extra-- > 0) box.firstElementChild.remove();
    if (follow) box.scrollTop = box.scrollHeight;
  }

  function addLine(event) {
    if (event.seq <= lastSeq) return; // already shown
    lastSeq = event.seq;
    pending.push(event);
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(render);
    }
  }

  // Header, stages, facts and error come from the server: swap them in on status changes.
  function refreshSections() {
    fetch(location.href, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        const fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-section]").forEach(function (old) {
          const replacement = fresh.querySelector('[data-live-section="' + old.dataset.liveSection + '"]');
          if (replacement) old.replaceWith(document.importNode(replacement, true));
        });
      })
      .catch(function () {});
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + box.dataset.logStream + "?batch=1&after=" + lastSeq);
    socket.onopen = function () { delay = 500; if (!done) setState("Live"); };
    socket.onmessage = function (message) {
      const event = JSON.parse(message.data);
      if (event.type === "logs") event.lines.forEach(addLine);
      else if (event.type === "log") addLine(event);
      else if (event.type === "status_update") {
        if (pending.length) render(); // lines before the status, on screen first
        box.dataset.status = event.status;
        if (!done) setState(event.stage);
        refreshSections();
      } else if (event.type === "deployment_complete") {
        if (pending.length) render();
        done = true;
        setState(event.status === "success" ? "Deployed" : event.status === "cancelled" ? "Cancelled" : "Failed");
        refreshSections();
        socket.close();
      }
    };
    socket.onclose = function (event) {
      if (done || event.code === 4401 || event.code === 4404) return;
      setState("Reconnecting…");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  }
  connect();
})();
