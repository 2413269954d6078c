// Index page: filter reports by tier and score range, sort by column. No dependencies.
(function () {
  "use strict";
  var table = document.getElementById("reports");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var tier = document.getElementById("f-tier");
  var min = document.getElementById("f-min");
  var max = document.getElementById("f-max");
  var count = document.getElementById("shown-count");
  var params = new URLSearchParams(window.location.search);
  if (params.has("tier")) { tier.value = params.get("tier"); }
  if (params.has("min")) { min.value = params.get("min"); }
  if (params.has("max")) { max.value = params.get("max"); }

  function num(input, fallback) {
    var v = parseFloat(input.value);
    return isNaN(v) ? fallback : v;
  }

  function apply() {
    var lo = num(min, 0), hi = num(max, 10), t = tier.value, shown = 0;
    rows.forEach(function (row) {
      var score = parseFloat(row.dataset.score);
      var ok = (!t || row.dataset.tier === t) && score >= lo && score <= hi;
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " reports shown";
  }

  function sortBy(key, dir) {
    var sign = dir === "asc" ? 1 : -1;
    rows.sort(function (a, b) {
      var x = a.dataset[key], y = b.dataset[key];
      if (key === "score") { return sign * (parseFloat(x) - parseFloat(y)); }
      return sign * (x < y ? -1 : x > y ? 1 : 0);
    });
    rows.forEach(function (row) { tbody.appendChild(row); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("button.sort"), function (btn) {
    btn.addEventListener("click", function () {
      var dir = btn.dataset.dir === "desc" ? "asc" : "desc";
      Array.prototype.forEach.call(document.querySelectorAll("button.sort"), function (b) {
        delete b.dataset.dir;
      });
      btn.dataset.dir = dir;
      sortBy(btn.dataset.sort, dir);
    });
  });
  [tier, min, max].forEach(function (el) {
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  });
  apply();
})();
