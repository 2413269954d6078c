// Graph page: a small force-directed layout on a canvas (repulsion between all nodes, springs
// along edges, gravity to the centre), with drag, hover labels and click-to-open. No libraries.
(function () {
  "use strict";
  var canvas = document.getElementById("graph");
  var dataEl = document.getElementById("graph-data");
  if (!canvas || !dataEl) { return; }
  var data = JSON.parse(dataEl.textContent);
  var ctx = canvas.getContext("2d");
  var W = canvas.width, H = canvas.height;
  var COLORS = { report: "#1f5fbf", claim: "#c77700", paper: "#6b7280" };
  var RADIUS = { report: 11, claim: 6, paper: 7 };
  var EDGE = { SUPPORT: "#17803d", CONTRADICT: "#b3261e" };
  var tip = document.getElementById("tip");

  var index = {};
  var nodes = data.nodes.map(function (n, i) {
    var a = (i / Math.max(1, data.nodes.length)) * Math.PI * 2;
    var r = 120 + 200 * ((i * 7919) % 97) / 97; // deterministic spread, no Math.random
    var node = { id: n.id, kind: n.kind, label: n.label, href: n.href,
                 x: W / 2 + r * Math.cos(a), y: H / 2 + r * Math.sin(a), vx: 0, vy: 0 };
    index[n.id] = node;
    return node;
  });
  var edges = data.edges.filter(function (e) { return index[e.source] && index[e.target]; })
    .map(function (e) { return { s: index[e.source], t: index[e.target], kind: e.kind }; });

  // Fruchterman-Reingold: repulsion k^2/d between all pairs, attraction d^2/k along edges,
  // a weak pull to the centre, and a displacement cap (temperature) that cools each frame.
  var K = 0.75 * Math.sqrt((W * H) / Math.max(1, nodes.length));
  function step(alpha) {
    var i, j, a, b, dx, dy, d, f, len, temp = Math.max(1.5, 40 * alpha);
    nodes.forEach(function (n) { n.vx = 0; n.vy = 0; });
    for (i = 0; i < nodes.length; i++) {
      a = nodes[i];
      for (j = i + 1; j < nodes.length; j++) {
        b = nodes[j];
        dx = a.x - b.x; dy = a.y - b.y; d = Math.sqrt(dx * dx + dy * dy) + 0.01;
        f = (K * K) / d / d;
        a.vx += dx * f; a.vy += dy * f; b.vx -= dx * f; b.vy -= dy * f;
      }
    }
    edges.forEach(function (e) {
      dx = e.t.x - e.s.x; dy = e.t.y - e.s.y; d = Math.sqrt(dx * dx + dy * dy) + 0.01;
      f = d / K;
      e.s.vx += dx * f; e.s.vy += dy * f; e.t.vx -= dx * f; e.t.vy -= dy * f;
    });
    nodes.forEach(function (n) {
      if (n === dragging) { return; }
      n.vx += (W / 2 - n.x) * 0.08; n.vy += (H / 2 - n.y) * 0.08;
      len = Math.sqrt(n.vx * n.vx + n.vy * n.vy) + 0.01;
      n.x += (n.vx / len) * Math.min(len, temp);
      n.y += (n.vy / len) * Math.min(len, temp);
      n.x = Math.min(W - 90, Math.max(15, n.x));
      n.y = Math.min(H - 15, Math.max(15, n.y));
    });
  }

  function draw() {
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, W, H);
    edges.forEach(function (e) {
      ctx.beginPath();
      ctx.strokeStyle = EDGE[e.kind] || "#c3c9d4";
      ctx.setLineDash(e.kind === "NOT_ENOUGH_INFO" ? [3, 3] : []);
      ctx.moveTo(e.s.x, e.s.y); ctx.lineTo(e.t.x, e.t.y); ctx.stroke();
    });
    ctx.setLineDash([]);
    var drawn = 0;
    nodes.forEach(function (n) {
      ctx.beginPath();
      ctx.fillStyle = COLORS[n.kind] || "#000";
      ctx.arc(n.x, n.y, RADIUS[n.kind] || 6, 0, Math.PI * 2);
      ctx.fill();
      if (n === hover) { ctx.lineWidth = 3; ctx.strokeStyle = "#000"; ctx.stroke(); ctx.lineWidth = 1; }
      drawn += 1;
    });
    ctx.fillStyle = "#1d2330"; ctx.font = "11px system-ui, sans-serif";
    nodes.forEach(function (n) {
      if (n.kind === "report") { ctx.fillText(n.id, n.x + 13, n.y + 4); }
      if (n.kind === "paper") { ctx.fillText(n.id.replace("arxiv:", ""), n.x + 9, n.y + 4); }
    });
    canvas.dataset.nodesDrawn = String(drawn);
    canvas.dataset.edgesDrawn = String(edges.length);
  }

  var dragging = null, hover = null, moved = false, ticks = 0;
  function frame() {
    var alpha = Math.max(0.05, 1 - ticks / 300);
    step(alpha);
    draw();
    ticks += 1;
    if (ticks < 300 || dragging) { window.requestAnimationFrame(frame); }
    else { canvas.dataset.settled = "true"; }
  }

  function at(evt) {
    var rect = canvas.getBoundingClientRect();
    var x = (evt.clientX - rect.left) * (W / rect.width);
    var y = (evt.clientY - rect.top) * (H / rect.height);
    var best = null, bestD = 14 * 14;
    nodes.forEach(function (n) {
      var d = (n.x - x) * (n.x - x) + (n.y - y) * (n.y - y);
      if (d < bestD) { best = n; bestD = d; }
    });
    return { node: best, x: x, y: y };
  }

  canvas.addEventListener("mousedown", function (evt) {
    var hit = at(evt); dragging = hit.node; moved = false;
    if (dragging && canvas.dataset.settled) { ticks = 250; delete canvas.dataset.settled; frame(); }
  });
  canvas.addEventListener("mousemove", function (evt) {
    var hit = at(evt);
    if (dragging) { dragging.x = hit.x; dragging.y = hit.y; moved = true; draw(); return; }
    hover = hit.node;
    if (hover) {
      tip.hidden = false; tip.textContent = hover.label;
      tip.style.left = (evt.offsetX + 12) + "px"; tip.style.top = (evt.offsetY + 12) + "px";
    } else { tip.hidden = true; }
    draw();
  });
  window.addEventListener("mouseup", function () {
    if (dragging && !moved && dragging.href) { window.location.href = dragging.href; }
    dragging = null;
  });
  canvas.addEventListener("mouseleave", function () { tip.hidden = true; hover = null; draw(); });
  frame();
})();
