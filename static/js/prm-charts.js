/* Draws every `canvas[data-chart]` with the vendored Chart.js from the JSON the page
 * carries beside it (see accounts/charts.py; no inline script, the CSP forbids it).
 * Charts in content that htmx swaps in are drawn too. A bar with a link opens it. */
(function () {
  "use strict";

  var PALETTE = {
    blue: "#1d4ed8", green: "#166534", red: "#b91c1c", amber: "#b45309",
    violet: "#6d28d9", teal: "#0f766e", slate: "#475569", pink: "#be185d"
  };
  var ORDER = ["blue", "green", "amber", "violet", "teal", "red", "slate", "pink"];
  var numberFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
  var moneyFormat = new Intl.NumberFormat("en-US", {
    minimumFractionDigits: 0, maximumFractionDigits: 0
  });

  function formatter(spec) {
    return function (value) {
      if (value === null || value === undefined) return "—";
      if (Array.isArray(value)) value = value[1] - value[0];
      if (spec.unit === "percent") return numberFormat.format(value) + " %";
      if (spec.unit === "number") return numberFormat.format(value);
      return moneyFormat.format(value) + (spec.currency ? " " + spec.currency : "");
    };
  }

  function config(spec) {
    var format = formatter(spec);
    var datasets = spec.series.map(function (series, index) {
      var color = PALETTE[series.color] || PALETTE[ORDER[index % ORDER.length]];
      return {
        label: series.label,
        data: series.values,
        type: series.kind || undefined,
        backgroundColor: color,
        borderColor: color,
        borderWidth: series.kind === "line" || spec.kind === "line" ? 2 : 0,
        pointRadius: 3,
        spanGaps: true
      };
    });
    var valueAxis = spec.horizontal ? "x" : "y";
    var scales = { x: { stacked: spec.stacked }, y: { stacked: spec.stacked } };
    scales[valueAxis].ticks = { callback: format };
    return {
      type: spec.kind === "line" ? "line" : "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + format(item.raw);
              }
            }
          }
        },
        onClick: function (event, elements) {
          if (!elements.length || !spec.links) return;
          var link = spec.links[elements[0].index];
          if (link) window.location.assign(link);
        },
        onHover: function (event, elements) {
          var link = elements.length && spec.links && spec.links[elements[0].index];
          event.native.target.style.cursor = link ? "pointer" : "default";
        }
      }
    };
  }

  function draw(root) {
    if (typeof window.Chart === "undefined") return;
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      canvas.dataset.drawn = "1";
      new window.Chart(canvas, config(JSON.parse(source.textContent)));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(); });
  } else {
    draw();
  }
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
