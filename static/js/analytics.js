/* The analytics page: draws the charts described in #analytics-charts with Chart.js, in the
   colours of the theme being shown (redrawn when it changes), and applies the filters as soon as
   one is chosen. Every chart's figures are also in a table on the page. */
(function () {
  "use strict";

  const source = document.getElementById("analytics-charts");
  const filters = document.querySelector("[data-analytics-filters]");
  if (filters) {
    filters.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () { filters.requestSubmit(); });
    });
  }
  if (!source || typeof window.Chart === "undefined") return;
  const specs = JSON.parse(source.textContent);
  const drawn = [];

  function colour(name) {
    return getComputedStyle(document.documentElement).getPropertyValue("--" + name).trim() || "#888";
  }

  function translucent(value) {
    // #rrggbb -> rgba(..., .15) for filled areas; other spellings are used as they are.
    const match = /^#([0-9a-f]{6})$/i.exec(value);
    if (!match) return value;
    const n = parseInt(match[1], 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + ",0.15)";
  }

  function formatter(unit) {
    if (unit === "B") {
      return function (value) {
        const units = ["B", "KB", "MB", "GB", "TB"];
        let n = Number(value), i = 0;
        while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
        return (i ? n.toFixed(1) : String(Math.round(n))) + " " + units[i];
      };
    }
    return function (value) { return value + (unit || ""); };
  }

  function config(spec) {
    const pie = spec.type === "pie";
    const format = formatter(spec.unit);
    const text = colour("muted");
    const grid = colour("border");
    const datasets = spec.datasets.map(function (set) {
      const main = colour(set.color);
      return {
        label: set.label,
        data: set.data,
        borderColor: pie ? colour("surface") : main,
        backgroundColor: pie
          ? (set.colors || []).map(colour)
          : (set.fill ? translucent(main) : main),
        fill: Boolean(set.fill),
        cubicInterpolationMode: "monotone",
        pointRadius: spec.labels.length > 40 ? 0 : 3,
        borderWidth: pie ? 2 : 2,
      };
    });
    const options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { display: pie || datasets.length > 1, labels: { color: text } },
        tooltip: { callbacks: { label: function (item) {
          return item.dataset.label + ": " + format(item.raw);
        } } },
      },
    };
    if (!pie) {
      const value = { beginAtZero: true, ticks: { color: text, callback: format, precision: 0 }, grid: { color: grid } };
      if (spec.max) value.max = spec.max;
      const category = { ticks: { color: text, autoSkip: true, maxRotation: 0 }, grid: { display: false } };
      if (spec.stacked) { value.stacked = true; category.stacked = true; }
      options.indexAxis = spec.horizontal ? "y" : "x";
      options.scales = spec.horizontal ? { x: value, y: category } : { x: category, y: value };
    }
    return { type: spec.type, data: { labels: spec.labels, datasets: datasets }, options: options };
  }

  function draw() {
    while (drawn.length) drawn.pop().destroy();
    specs.forEach(function (spec) {
      const canvas = document.getElementById("chart-" + spec.id);
      if (canvas) drawn.push(new window.Chart(canvas, config(spec)));
    });
  }

  draw();
  // The theme may follow the system (light/dark) or be switched in Settings on another tab.
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", draw);
  new MutationObserver(draw).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
})();
