// Backups tab: a running backup's progress (phase, files, bytes) over its WebSocket; when it
// ends, the page reloads to show the finished row (checks, size, restore button).
(function () {
  "use strict";
  if (!window.WebSocket) return;
  const FINAL = ["succeeded", "failed"];

  function size(bytes) {
    const units = ["bytes", "KB", "MB", "GB", "TB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit ? value.toFixed(1) : String(value)) + " " + units[unit];
  }

  function follow(box) {
    let delay = 1000;
    let done = false;
    function show(event) {
      let text = event.phaseLabel || "Waiting for a worker";
      if (event.filesDone || event.bytesDone) {
        text += ": " + event.filesDone + (event.totalFiles ? " of " + event.totalFiles : "") + " files, " +
          size(event.bytesDone) + (event.totalBytes ? " of " + size(event.totalBytes) : "");
      }
      box.textContent = text;
    }
    function connect() {
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      const socket = new WebSocket(scheme + location.host + box.dataset.backupStream);
      socket.onopen = function () { delay = 1000; };
      socket.onmessage = function (message) {
        const event = JSON.parse(message.data);
        if (event.type === "progress" && FINAL.indexOf(event.state) === -1) show(event);
        else if (event.type === "backup_complete") { done = true; location.reload(); }
      };
      socket.onclose = function (event) {
        if (done || event.code === 4401 || event.code === 4404) return;
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 15000);
      };
    }
    connect();
  }

  document.querySelectorAll("[data-backup-stream]").forEach(follow);
})();
