// UniHM static viewer: canvas 2D, orbit (drag), zoom (wheel), play/pause/scrub. Data: window.UNIHM_DATA.
(function () {
  const D = window.UNIHM_DATA;
  const cv = document.getElementById("view"), ctx = cv.getContext("2d");
  const slider = document.getElementById("scrub"), btn = document.getElementById("play");
  const label = document.getElementById("frame");
  let yaw = -0.8, pitch = 0.5, dist = D.radius * 3.0, playing = true, t = 0, last = null;
  const T = Math.max(D.frames, 1);
  slider.max = T - 1;
  function mat(m, p) {  // 4x4 row-major (flat 16) applied to a point
    return [m[0] * p[0] + m[1] * p[1] + m[2] * p[2] + m[3], m[4] * p[0] + m[5] * p[1] + m[6] * p[2] + m[7],
            m[8] * p[0] + m[9] * p[1] + m[10] * p[2] + m[11]];
  }
  function project(p) {  // orbit camera around D.center, z up
    const x = p[0] - D.center[0], y = p[1] - D.center[1], z = p[2] - D.center[2];
    const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
    const xr = cy * x + sy * y, yr = -sy * x + cy * y;          // yaw about z
    const depth = cp * yr + sp * z, up = -sp * yr + cp * z;     // pitch about x
    const zc = dist - depth, f = 0.9 * Math.min(cv.width, cv.height) / Math.max(zc, 1e-3);
    return [cv.width / 2 + f * xr, cv.height / 2 - f * up * 1.0, zc];
  }
  function line(a, b, color, w) {
    const p = project(a), q = project(b);
    ctx.strokeStyle = color; ctx.lineWidth = w; ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]);
    ctx.stroke();
  }
  function pathIndex(n) { return n <= 1 ? 0 : Math.round(t / Math.max(T - 1, 1) * (n - 1)); }
  function draw() {
    ctx.fillStyle = "#111"; ctx.fillRect(0, 0, cv.width, cv.height);
    const P = D.path, np = P.length;
    let rel = null;
    if (np && D.follow) { rel = P[pathIndex(np)].rel; }
    const pts = D.cloud.points, col = D.cloud.colors;
    for (let i = 0; i < pts.length; i++) {
      const p = project(rel ? mat(rel, pts[i]) : pts[i]);
      const c = col.length ? col[i] : [200, 200, 200];
      ctx.fillStyle = "rgb(" + c[0] + "," + c[1] + "," + c[2] + ")"; ctx.fillRect(p[0] - 1, p[1] - 1, 2.5, 2.5);
    }
    for (let i = 1; i < np; i++) line(P[i - 1].xyz, P[i].xyz, "#ffcc00", 2);
    if (np) {
      const m = P[pathIndex(np)].m, o = [m[3], m[7], m[11]], s = D.radius * 0.25;
      line(o, [o[0] + s * m[0], o[1] + s * m[4], o[2] + s * m[8]], "#f33", 2);
      line(o, [o[0] + s * m[1], o[1] + s * m[5], o[2] + s * m[9]], "#3f3", 2);
      line(o, [o[0] + s * m[2], o[1] + s * m[6], o[2] + s * m[10]], "#39f", 2);
    }
    for (const h of D.hands) {
      const k = Math.min(t, h.points.length - 1), P3 = h.points[k];
      for (const [a, b] of h.links) line(P3[a], P3[b], h.color, 2);
    }
    label.textContent = "frame " + (t + 1) + " / " + T + (D.fps ? "  (" + (t / D.fps).toFixed(2) + " s)" : "");
    slider.value = t;
  }
  function tick(now) {
    if (playing && T > 1 && (last === null || now - last >= 1000 / (D.fps || 10))) { t = (t + 1) % T; last = now; }
    draw(); requestAnimationFrame(tick);
  }
  let drag = null;
  cv.addEventListener("mousedown", e => { drag = [e.clientX, e.clientY]; });
  window.addEventListener("mouseup", () => { drag = null; });
  window.addEventListener("mousemove", e => {
    if (!drag) return;
    yaw += (e.clientX - drag[0]) * 0.01; pitch = Math.max(-1.5, Math.min(1.5, pitch + (e.clientY - drag[1]) * 0.01));
    drag = [e.clientX, e.clientY];
  });
  cv.addEventListener("wheel", e => { e.preventDefault(); dist *= e.deltaY > 0 ? 1.1 : 0.9; }, {passive: false});
  btn.addEventListener("click", () => { playing = !playing; btn.textContent = playing ? "pause" : "play"; });
  slider.addEventListener("input", () => { t = parseInt(slider.value, 10); playing = false; btn.textContent = "play"; });
  requestAnimationFrame(tick);
})();
