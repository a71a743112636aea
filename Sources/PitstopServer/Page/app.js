// Pitstop's timeline page: one row per region (linked regions together), one SVG rect per
// wave coloured by status (stripes for a freeze), windows and blackouts shaded behind, the
// current time as a line. Live: /api/v1/live says when the database changed, and the page
// fetches the timeline again. No framework, nothing loaded from elsewhere.
"use strict";
(function () {
  const HOUR = 3600e3, DAY = 24 * HOUR;
  const LABEL = 188;             // the region column, in px
  const MIN_BAR = 6;             // the narrowest bar, so that a 30-second freeze can be seen and clicked
  const STATUSES = ["scheduled", "approved", "started", "completed", "failed", "cancelled"];
  const FILL = { scheduled: "#94a3b8", approved: "#2563eb", started: "#f59e0b", completed: "#16a34a", failed: "#dc2626", cancelled: "#e5e7eb" };
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const pad = (n) => String(n).padStart(2, "0");
  const hm = (t) => { const d = new Date(t); return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()); };
  const dayName = (t) => { const d = new Date(t); return DAYS[d.getUTCDay()] + " " + d.getUTCDate() + " " + MONTHS[d.getUTCMonth()]; };
  const hms = (t) => hm(t) + ":" + pad(new Date(t).getUTCSeconds());
  const when = (iso) => iso ? dayName(Date.parse(iso)) + " " + hm(Date.parse(iso)) : "—";
  const span = (ms) => {
    if (ms < 60e3) return Math.round(ms / 1e3) + " s";
    const m = Math.round(ms / 60e3);
    return m < 120 ? m + " min" : (m / 60).toFixed(m % 60 ? 1 : 0) + " h";
  };
  // `Thu 3 Dec 03:16 – 03:46`, the end's day only when it differs; seconds for short waves.
  const between = (a, b) => {
    const t0 = Date.parse(a), t1 = b ? Date.parse(b) : null;
    const short = t1 !== null && t1 - t0 < 5 * 60e3;
    const clock = short ? hms : hm;
    const start = dayName(t0) + " " + clock(t0);
    if (t1 === null) return start + " – running";
    return start + " – " + (dayName(t1) === dayName(t0) ? "" : dayName(t1) + " ") + clock(t1);
  };

  const state = {
    view: localStorage.getItem("pitstop.view") === "day" ? "day" : "week",
    from: 0, to: 0,            // the range shown, ms since the epoch
    data: null,                // the last timeline answer
    waves: [],                 // its waves, with the display status
    selected: null,            // the wave id in the panel
    mark: null,                // the last change mark the live stream sent
    token: localStorage.getItem("pitstop.token") || "",
    fetchedAt: null, error: null, loading: 0, renderMs: 0, fetchMs: 0,
  };

  // ---- Time range ----
  function home() {
    const now = Date.now();
    if (state.view === "day") {
      state.from = Math.floor(now / HOUR) * HOUR - 4 * HOUR;
      state.to = state.from + DAY;
    } else {
      state.from = Math.floor(now / DAY) * DAY - DAY;
      state.to = state.from + 7 * DAY;
    }
  }
  function shift(direction) {
    const step = state.view === "day" ? 6 * HOUR : DAY;
    state.from += direction * step;
    state.to += direction * step;
    load();
  }
  function setView(view) {
    if (view === state.view) return;
    const middle = Math.min(Math.max(Date.now(), state.from), state.to);
    state.view = view;
    localStorage.setItem("pitstop.view", view);
    if (view === "day") { state.from = Math.floor(middle / HOUR) * HOUR - 4 * HOUR; state.to = state.from + DAY; }
    else home();
    load();
  }

  // ---- Requests ----
  function headers(extra) {
    const h = Object.assign({ Accept: "application/json" }, extra || {});
    if (state.token) h.Authorization = "Bearer " + state.token;
    return h;
  }
  async function api(path, options) {
    const response = await fetch(path, Object.assign({}, options || {}, { headers: headers(options && options.headers) }));
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    if (!response.ok) {
      const error = new Error((body && body.message) || response.status + " " + response.statusText);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  let loadSeq = 0;
  async function load() {
    const seq = ++loadSeq;
    showRange();
    const from = new Date(state.from).toISOString().replace(".000Z", "Z");
    const to = new Date(state.to).toISOString().replace(".000Z", "Z");
    const started = performance.now();
    try {
      const data = await api("/api/v1/timeline?from=" + encodeURIComponent(from) + "&to=" + encodeURIComponent(to));
      if (seq !== loadSeq) return;
      state.fetchMs = performance.now() - started;
      state.data = data;
      state.waves = data.waves.map((w) => Object.assign(w, {
        display: w.status === "scheduled" && w.approved ? "approved" : w.status,
        t0: Date.parse(w.actualStart && w.status !== "scheduled" ? w.actualStart : w.start),
        t1: Date.parse(w.actualEnd || (w.status === "started" ? new Date(Math.max(Date.now(), Date.parse(w.end))).toISOString() : w.end)),
      }));
      state.error = null;
      state.fetchedAt = new Date();
      render();
      if (state.selected) refreshPanel();
    } catch (error) {
      if (seq !== loadSeq) return;
      state.error = error.message;
      if (error.status === 401) askToken("This server needs a token to show the timeline.");
      footer();
    }
  }
  let reloadTimer = null;
  function reloadSoon() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(load, 150);
  }

  // ---- Rows: the regions, grouped by pair links ----
  function rows() {
    const d = state.data;
    const used = new Set();
    for (const w of state.waves) used.add(w.region);
    for (const o of d.windows) if (o.region) used.add(o.region);
    for (const b of d.blackouts) if (b.region) used.add(b.region);
    const all = $("all-regions").checked;
    const groups = new Set(d.regions.filter((r) => all || used.has(r.name)).map((r) => r.group));
    // A region with maintenance brings its linked regions: the pair is read together.
    return d.regions.filter((r) => groups.has(r.group));
  }

  // Lanes inside a row: a wave takes the first lane free at its start, so bars never overlap.
  function lanes(waves, x) {
    const ends = [];
    for (const w of waves) {
      const a = x(w.t0), b = Math.max(x(w.t1), a + MIN_BAR);
      let lane = ends.findIndex((end) => end <= a);
      if (lane < 0) { lane = ends.length; ends.push(0); }
      ends[lane] = b + 1;
      w.lane = lane;
    }
    return Math.max(ends.length, 1);
  }

  // ---- Drawing ----
  function render() {
    const started = performance.now();
    const d = state.data;
    if (!d) return;
    const box = $("rows");
    const width = Math.max(box.clientWidth, 600);
    const plot = width - LABEL - 8;
    const x = (t) => LABEL + ((t - state.from) / (state.to - state.from)) * plot;
    const clampX = (t) => Math.min(Math.max(x(t), LABEL), LABEL + plot);
    const regions = rows();
    const byRegion = new Map(regions.map((r) => [r.name, []]));
    for (const w of state.waves) (byRegion.get(w.region) || []).push(w);

    // Row heights from the lanes each region needs.
    const layout = [];
    let y = 0, previousGroup = null;
    // Many regions: lower rows, thinner lanes, so that more of the fleet fits on the screen.
    const room = regions.length > 8 ? 40 : 100;
    for (const r of regions) {
      if (previousGroup !== null && r.group !== previousGroup) y += 8;
      const waves = byRegion.get(r.name);
      waves.sort((a, b) => a.t0 - b.t0);
      let n = lanes(waves, x);
      const lane = n <= 3 ? 14 : Math.max(3, Math.min(14, room / n));
      // More lanes than fit: they fold over one another, so that a row never grows past `room`.
      const fits = Math.max(3, Math.floor(room / lane));
      if (n > fits) {
        for (const w of waves) w.lane %= fits;
        n = fits;
      }
      const height = Math.max(38, Math.ceil(n * lane) + 12);
      layout.push({ region: r, y, height, lane, lanes: n, waves, first: r.group !== previousGroup });
      previousGroup = r.group;
      y += height;
    }
    const total = y + 4;
    const out = [];
    out.push(`<svg id="plot" width="${width}" height="${total}" viewBox="0 0 ${width} ${total}">`);
    out.push(`<defs>` + STATUSES.map((s) =>
      `<pattern id="freeze-${s}" width="7" height="7" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
      `<rect width="7" height="7" fill="${FILL[s]}"/><rect width="2.5" height="7" fill="rgba(255,255,255,.7)"/></pattern>`).join("") + `</defs>`);
    // Group bands, alternating, with the day grid behind everything.
    let band = 0;
    const groupTop = new Map();
    for (const row of layout) {
      if (row.first) { band++; groupTop.set(row.region.group, row.y); }
      out.push(`<rect x="0" y="${row.y}" width="${width}" height="${row.height}" fill="${band % 2 ? "#ffffff" : "#f8fafc"}"/>`);
    }
    out.push(grid(x, 0, total, plot, false));
    // Windows, then blackouts, behind the waves.
    const rowOf = new Map(layout.map((row) => [row.region.name, row]));
    for (const o of d.windows) {
      const row = rowOf.get(o.region);
      if (!row) continue;
      const a = clampX(Date.parse(o.start)), b = clampX(Date.parse(o.end));
      if (b - a < 0.5) continue;
      out.push(`<rect x="${a}" y="${row.y + 2}" width="${b - a}" height="${row.height - 4}" fill="#dcfce7" stroke="#86efac" stroke-width="1"><title>window ${esc(o.window)} (${esc(o.appliesTo)}): ${esc(when(o.start))} – ${esc(when(o.end))} UTC</title></rect>`);
    }
    for (const bo of d.blackouts) {
      const a = clampX(Date.parse(bo.start)), b = clampX(Date.parse(bo.end));
      if (b - a < 0.5) continue;
      const targets = bo.region ? [rowOf.get(bo.region)].filter(Boolean) : layout;
      for (const row of targets) {
        out.push(`<rect x="${a}" y="${row.y + 1}" width="${b - a}" height="${row.height - 2}" fill="url(#hatch-blackout)" opacity=".85"><title>blackout ${esc(bo.name)}${bo.region ? "" : " (whole fleet)"}: ${esc(when(bo.start))} – ${esc(when(bo.end))} UTC</title></rect>`);
      }
    }
    // Row separators and labels.
    for (const row of layout) {
      const r = row.region;
      out.push(`<line x1="0" x2="${width}" y1="${row.y + row.height - 0.5}" y2="${row.y + row.height - 0.5}" stroke="#e2e8f0"/>`);
      const paired = r.pairedWith.length ? "⇄ " + r.pairedWith.join(", ") : "no pair";
      const mid = row.y + Math.min(row.height / 2, 19);
      out.push(`<text x="14" y="${mid - 3}" font-size="13" font-weight="600" fill="#0f172a">${esc(r.name)}</text>`);
      out.push(`<text x="14" y="${mid + 11}" font-size="11" fill="#64748b">${esc(trim(r.displayName && r.displayName !== r.name ? r.displayName + " · " + paired : paired, 28))}</text>`);
    }
    // A bracket per group of linked regions.
    for (let i = 0; i < layout.length; i++) {
      if (!layout[i].first) continue;
      let j = i;
      while (j + 1 < layout.length && !layout[j + 1].first) j++;
      const top = layout[i].y + 4, bottom = layout[j].y + layout[j].height - 4;
      out.push(`<path d="M9 ${top} H5 V${bottom} H9" fill="none" stroke="${j > i ? "#475569" : "#cbd5e1"}" stroke-width="2"/>`);
    }
    out.push(`<line x1="${LABEL - 1}" x2="${LABEL - 1}" y1="0" y2="${total}" stroke="#cbd5e1"/>`);
    // The waves: one rect each, carrying its id and status.
    const labels = [];
    for (const row of layout) {
      const top = row.y + (row.height - row.lanes * row.lane) / 2 + (row.lane > 6 ? 1 : 0);
      for (const w of row.waves) {
        const a = x(w.t0), b = Math.max(x(w.t1), a + MIN_BAR);
        const left = Math.max(a, LABEL), right = Math.min(Math.max(b, left + MIN_BAR), LABEL + plot + MIN_BAR);
        const h = Math.max(row.lane - (row.lane > 6 ? 2 : 0.5), 1.5);
        const top2 = top + w.lane * row.lane;
        // Where it was planned, dashed, when it ran at another time.
        const p0 = Date.parse(w.start);
        if (w.actualStart && Math.abs(Date.parse(w.actualStart) - p0) > 60e3 && h >= 6) {
          const pa = clampX(p0), pb = Math.max(clampX(Date.parse(w.end)), pa + MIN_BAR);
          out.push(`<rect x="${pa.toFixed(1)}" y="${(top2 + 0.5).toFixed(1)}" width="${(pb - pa).toFixed(1)}" height="${(h - 1).toFixed(1)}" fill="${FILL[w.display]}" fill-opacity=".22" stroke="${FILL[w.display]}" stroke-dasharray="1 2" pointer-events="none"><title>planned slot</title></rect>`);
        }
        const fill = w.kind === "freeze" ? `url(#freeze-${w.display})` : FILL[w.display];
        const cls = "bar s-" + w.display + (w.id === state.selected ? " sel" : "");
        out.push(`<rect class="${cls}" data-wave="${esc(w.id)}" data-status="${w.display}" data-kind="${w.kind}" x="${left.toFixed(1)}" y="${top2.toFixed(1)}" width="${(right - left).toFixed(1)}" height="${h.toFixed(1)}" rx="${h > 6 ? 2 : 0}" fill="${fill}"/>`);
        if (right - left > 64 && h >= 12) labels.push(`<text x="${left + 4}" y="${top2 + h - 3.5}" font-size="10.5" fill="${w.display === "cancelled" ? "#374151" : "#fff"}" pointer-events="none">${esc(trim(waveName(w), Math.floor((right - left - 6) / 6)))}</text>`);
      }
    }
    out.push(labels.join(""));
    out.push(nowLine(x, 0, total));
    out.push(`</svg>`);
    box.innerHTML = out.join("");
    $("tip").hidden = true;
    drawAxis(width, x, plot);
    const empty = $("empty");
    if (state.waves.length === 0) {
      empty.hidden = false;
      empty.textContent = "No maintenance planned or running between " + dayName(state.from) + " " + hm(state.from) + " and " + dayName(state.to) + " " + hm(state.to) + " UTC.";
    } else {
      empty.hidden = true;
    }
    state.renderMs = performance.now() - started;
    document.body.dataset.ready = "1";
    document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
    footer();
  }

  function waveName(w) {
    return w.availabilitySet ? w.availabilitySet + " UD " + w.updateDomain : "single-instance VMs";
  }
  function trim(text, n) { return text.length > n ? text.slice(0, Math.max(n - 1, 1)) + "…" : text; }

  // Day lines and hour ticks; the axis gets labels.
  function grid(x, top, bottom, plot, withLabels) {
    const parts = [];
    const step = state.view === "day" ? HOUR : 6 * HOUR;
    for (let t = Math.ceil(state.from / step) * step; t <= state.to; t += step) {
      const px = x(t);
      const midnight = t % DAY === 0;
      parts.push(`<line x1="${px}" x2="${px}" y1="${top}" y2="${bottom}" stroke="${midnight ? "#94a3b8" : "#eef2f7"}" stroke-width="${midnight ? 1 : 1}"/>`);
    }
    return parts.join("");
  }
  function nowLine(x, top, bottom) {
    const now = Date.now();
    if (now < state.from || now > state.to) return "";
    const px = x(now);
    return `<line class="now" x1="${px}" x2="${px}" y1="${top}" y2="${bottom}" stroke="#e11d48" stroke-width="2"/>`;
  }
  function drawAxis(width, x, plot) {
    const out = [`<svg width="${width}" height="40">`];
    out.push(`<rect x="0" y="0" width="${width}" height="40" fill="#fff"/>`);
    out.push(`<text x="14" y="16" font-size="11" fill="#64748b">region</text><text x="14" y="32" font-size="11" fill="#94a3b8">(⇄ paired with)</text>`);
    // Days on the first line, hours on the second.
    for (let t = Math.floor(state.from / DAY) * DAY; t < state.to; t += DAY) {
      const a = Math.max(x(t), LABEL), b = Math.min(x(t + DAY), LABEL + plot);
      const today = Math.floor(Date.now() / DAY) * DAY === t;
      const label = dayName(t) + (today ? " · today" : "");
      // Each day's name at its start; a day cut by the left edge is named only if it has room.
      if (b - a >= label.length * 7 + 8) {
        out.push(`<text x="${a + 6}" y="15" font-size="12" font-weight="600" fill="${today ? "#e11d48" : "#0f172a"}">${label}</text>`);
      }
      if (x(t) >= LABEL) out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="0" y2="40" stroke="#94a3b8"/>`);
    }
    const step = state.view === "day" ? HOUR : 6 * HOUR;
    const labelEvery = state.view === "day" ? 2 * HOUR : 6 * HOUR;
    for (let t = Math.ceil(state.from / step) * step; t < state.to; t += step) {
      const px = x(t);
      out.push(`<line x1="${px}" x2="${px}" y1="30" y2="40" stroke="#cbd5e1"/>`);
      if (t % labelEvery === 0 && px > LABEL + 10 && px < LABEL + plot - 10) out.push(`<text x="${px}" y="29" font-size="10.5" text-anchor="middle" fill="#64748b">${hm(t)}</text>`);
    }
    const now = Date.now();
    if (now >= state.from && now <= state.to) {
      const px = x(now);
      out.push(`<line x1="${px}" x2="${px}" y1="20" y2="40" stroke="#e11d48" stroke-width="2"/>`);
      out.push(`<rect x="${px - 22}" y="19" width="44" height="13" rx="3" fill="#e11d48"/><text x="${px}" y="29" font-size="10" font-weight="600" text-anchor="middle" fill="#fff">${hm(now)}</text>`);
    }
    out.push(`</svg>`);
    $("axis").innerHTML = out.join("");
  }

  function showRange() {
    const last = state.to - 1;
    $("range").textContent = state.view === "day"
      ? dayName(state.from) + " " + hm(state.from) + " – " + dayName(state.to) + " " + hm(state.to)
      : dayName(state.from) + " – " + dayName(last) + " " + new Date(last).getUTCFullYear();
    $("view-day").classList.toggle("on", state.view === "day");
    $("view-week").classList.toggle("on", state.view === "week");
  }
  function footer() {
    const parts = [];
    if (state.data) {
      const vms = state.waves.reduce((n, w) => n + w.vms, 0);
      const running = state.waves.filter((w) => w.status === "started").length;
      parts.push(`${state.waves.length} wave${state.waves.length === 1 ? "" : "s"} (${vms.toLocaleString("en")} VMs) in view, ${running} running`);
      parts.push(`fetched ${state.fetchedAt ? hm(state.fetchedAt.getTime()) + ":" + pad(state.fetchedAt.getUTCSeconds()) : "—"} UTC in ${Math.round(state.fetchMs)} ms, drawn in ${Math.round(state.renderMs)} ms`);
    }
    if (state.error) parts.push(`<span class="err">${esc(state.error)}</span>`);
    parts.push("click a wave for its VMs, approve or cancel · ← → move · D / W view");
    $("status").innerHTML = parts.map((p) => `<span>${p}</span>`).join("");
  }

  // ---- Hover and click ----
  const byId = () => new Map(state.waves.map((w) => [w.id, w]));
  function tipText(w) {
    const actual = w.actualStart ? `<br><span class="dim">actual</span> ${between(w.actualStart, w.actualEnd)}` : "";
    const counts = w.mixed ? `<br><span class="dim">events</span> ` + Object.entries(w.statusCounts).map(([s, n]) => n + " " + s).join(", ") : "";
    return `<b>${esc(waveName(w))}</b> · ${esc(w.region)} · ${w.kind}<br>` +
      `<span class="badge s-${w.display}">${w.display}</span> ${w.vms} VM${w.vms === 1 ? "" : "s"}${w.approved && w.display !== "approved" ? " · approved" : ""}<br>` +
      `<span class="dim">planned</span> ${between(w.start, w.end)} UTC (${span(Date.parse(w.end) - Date.parse(w.start))})` + actual + counts;
  }
  function onMove(event) {
    const target = event.target.closest && event.target.closest("[data-wave]");
    const tip = $("tip");
    if (!target) { tip.hidden = true; return; }
    const w = byId().get(target.dataset.wave);
    if (!w) { tip.hidden = true; return; }
    tip.innerHTML = tipText(w);
    tip.hidden = false;
    const r = tip.getBoundingClientRect();
    let left = event.clientX + 14, top = event.clientY + 14;
    if (left + r.width > window.innerWidth - 6) left = event.clientX - r.width - 14;
    if (top + r.height > window.innerHeight - 6) top = event.clientY - r.height - 14;
    tip.style.left = left + "px";
    tip.style.top = top + "px";
  }
  function onClick(event) {
    const target = event.target.closest && event.target.closest("[data-wave]");
    if (!target) return;
    openPanel(target.dataset.wave);
  }

  // ---- The panel: one wave, its VMs, approve and cancel ----
  async function openPanel(id) {
    state.selected = id;
    document.querySelectorAll(".bar.sel").forEach((el) => el.classList.remove("sel"));
    const el = document.querySelector(`[data-wave="${CSS.escape(id)}"]`);
    if (el) el.classList.add("sel");
    $("panel").hidden = false;
    $("panel-body").innerHTML = "loading…";
    panelMessage = null;
    await refreshPanel();
  }
  function closePanel() {
    state.selected = null;
    panelMessage = null;
    $("panel").hidden = true;
    document.querySelectorAll(".bar.sel").forEach((el) => el.classList.remove("sel"));
  }
  // What the last Approve or Cancel in the panel answered: kept, through live redraws, until the
  // panel is opened again or closed, so a refusal stays on screen to be read.
  let panelMessage = null;
  async function refreshPanel() {
    const id = state.selected;
    if (!id) return;
    const answer = panelMessage && panelMessage.wave === id ? panelMessage : null;
    let detail;
    try {
      detail = await api("/api/v1/waves/" + encodeURIComponent(id));
    } catch (error) {
      $("panel-body").innerHTML = `<div class="msg err">${esc(error.message)}</div>`;
      return;
    }
    if (state.selected !== id) return;
    const w = detail.wave;
    const display = w.status === "scheduled" && w.approved ? "approved" : w.status;
    const shown = detail.events.slice(0, 300);
    const reason = $("reason") ? $("reason").value : "";
    $("panel-body").innerHTML = `
      <h2>${esc(waveName(w))}</h2>
      <div class="sub">wave ${esc(w.id)}</div>
      <dl>
        <dt>status</dt><dd><span class="badge s-${display}">${display}</span>${w.mixed ? " (" + Object.entries(w.statusCounts).map(([s, n]) => n + " " + s).join(", ") + ")" : ""}</dd>
        <dt>region</dt><dd>${esc(w.region)}</dd>
        <dt>set</dt><dd>${w.availabilitySet ? esc(w.availabilitySet) : "— (single-instance VMs)"}</dd>
        <dt>update domain</dt><dd>${w.updateDomain == null ? "—" : w.updateDomain}</dd>
        <dt>kind</dt><dd>${w.kind}</dd>
        <dt>VMs</dt><dd>${w.vms}</dd>
        <dt>planned</dt><dd>${between(w.start, w.end)} UTC (${span(Date.parse(w.end) - Date.parse(w.start))})</dd>
        <dt>actual</dt><dd>${w.actualStart ? between(w.actualStart, w.actualEnd) : "not started"}</dd>
        <dt>approved</dt><dd>${w.approved ? "yes" : "no"}</dd>
        <dt>campaign</dt><dd>${esc(w.campaign)}</dd>
      </dl>
      <div class="actions">
        <input id="reason" placeholder="reason (recorded in the audit log)" value="${esc(reason)}">
        <div class="buttons">
          <button type="button" class="primary" id="do-approve" ${w.status === "scheduled" && !w.approved ? "" : "disabled"}>Approve</button>
          <button type="button" class="danger" id="do-cancel" ${w.status === "scheduled" ? "" : "disabled"}>Cancel wave</button>
        </div>
        <div id="panel-msg" class="msg ${answer ? answer.kind : ""}">${answer ? esc(answer.text) : ""}</div>
      </div>
      <table class="vms"><thead><tr><th>VM</th><th>FD</th><th>status</th><th>actual</th></tr></thead><tbody>
      ${shown.map((e) => `<tr><td>${esc(e.vm)}</td><td>${e.faultDomain == null ? "—" : e.faultDomain}</td><td>${e.status}${e.approvedAt && e.status === "scheduled" ? " ✓" : ""}</td><td>${e.actualStart ? hm(Date.parse(e.actualStart)) + (e.actualEnd ? "–" + hm(Date.parse(e.actualEnd)) : "–") : ""}</td></tr>`).join("")}
      </tbody></table>
      ${detail.events.length > shown.length ? `<div class="msg">and ${detail.events.length - shown.length} more VMs</div>` : ""}`;
    $("do-approve").onclick = () => transition(id, "approve");
    $("do-cancel").onclick = () => {
      if (confirm("Cancel this wave's scheduled events? This cannot be undone.")) transition(id, "cancel");
    };
  }
  async function transition(id, step) {
    const reason = ($("reason") && $("reason").value.trim()) || (step === "approve" ? "approved from the timeline page" : "cancelled from the timeline page");
    panelMessage = { wave: id, kind: "", text: step === "approve" ? "approving…" : "cancelling…" };
    $("panel-msg").className = "msg";
    $("panel-msg").textContent = panelMessage.text;
    try {
      await api("/api/v1/waves/" + encodeURIComponent(id) + "/" + step, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ reason: reason }),
      });
      panelMessage = { wave: id, kind: "ok", text: step === "approve" ? "Approved." : "Cancelled." };
    } catch (error) {
      panelMessage = { wave: id, kind: "err", text: (error.status ? error.status + ": " : "") + error.message +
        (error.status === 401 || error.status === 403 ? "\nApproving or cancelling takes an executor or operator token (Token, top right)." : "") };
    }
    await load();
    await refreshPanel();
  }

  // ---- The token ----
  function askToken(why) {
    $("token-why").firstChild.textContent = why ? why + " Paste one made with " : "The token this page sends. Paste one made with ";
    $("token-input").value = state.token;
    $("token-dialog").hidden = false;
    $("token-input").focus();
  }
  function setToken(token) {
    state.token = token;
    if (token) localStorage.setItem("pitstop.token", token); else localStorage.removeItem("pitstop.token");
    $("token-dialog").hidden = true;
    connectLive();
    load();
  }

  // ---- Live updates ----
  let source = null;
  function connectLive() {
    if (source) source.close();
    const url = "/api/v1/live" + (state.token ? "?access_token=" + encodeURIComponent(state.token) : "");
    source = new EventSource(url);
    const live = $("live");
    source.onopen = () => { live.className = "live on"; live.textContent = "● live"; };
    // EventSource retries a dropped stream by itself; a refused one (401) it gives up.
    source.onerror = () => {
      live.className = "live off";
      live.textContent = source.readyState === EventSource.CLOSED ? "○ not live" : "○ reconnecting";
    };
    source.addEventListener("change", (event) => {
      let mark = null;
      try { mark = JSON.parse(event.data).mark; } catch (_) { return; }
      const first = state.mark === null;
      if (mark !== state.mark) {
        state.mark = mark;
        if (!first) reloadSoon();
      }
    });
  }

  // ---- Wiring ----
  $("view-day").onclick = () => setView("day");
  $("view-week").onclick = () => setView("week");
  $("prev").onclick = () => shift(-1);
  $("next").onclick = () => shift(1);
  $("today").onclick = () => { home(); load(); };
  $("all-regions").onchange = () => render();
  $("token-button").onclick = () => askToken("");
  $("token-form").onsubmit = (event) => { event.preventDefault(); setToken($("token-input").value.trim()); };
  $("token-clear").onclick = () => setToken("");
  $("token-cancel").onclick = () => { $("token-dialog").hidden = true; };
  $("panel-close").onclick = closePanel;
  const rowsBox = $("rows");
  rowsBox.addEventListener("mousemove", onMove);
  rowsBox.addEventListener("mouseleave", () => { $("tip").hidden = true; });
  rowsBox.addEventListener("click", onClick);
  // Sideways scrolling (a trackpad, or shift and the wheel) moves in time.
  let wheelTimer = null, wheelShift = 0;
  rowsBox.addEventListener("wheel", (event) => {
    const dx = event.shiftKey ? event.deltaY : event.deltaX;
    if (!dx || Math.abs(dx) < Math.abs(event.shiftKey ? 0 : event.deltaY)) return;
    event.preventDefault();
    const msPerPx = (state.to - state.from) / Math.max(rowsBox.clientWidth - LABEL, 100);
    wheelShift += dx * msPerPx;
    clearTimeout(wheelTimer);
    wheelTimer = setTimeout(() => {
      const step = Math.round(wheelShift / (15 * 60e3)) * 15 * 60e3;
      wheelShift = 0;
      if (step) { state.from += step; state.to += step; load(); }
    }, 120);
  }, { passive: false });
  document.addEventListener("keydown", (event) => {
    if (event.target.tagName === "INPUT") return;
    if (event.key === "ArrowLeft") shift(-1);
    else if (event.key === "ArrowRight") shift(1);
    else if (event.key === "Escape") closePanel();
    else if (event.key === "d" || event.key === "D") setView("day");
    else if (event.key === "w" || event.key === "W") setView("week");
  });
  let resizeTimer = null;
  window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(render, 100); });
  // The now-line moves; running bars grow.
  setInterval(() => { if (state.data) render(); }, 30e3);

  // For tests and scripts: the bars drawn, and the range shown.
  window.pitstopBars = () => Array.from(document.querySelectorAll("rect[data-wave]")).map((el) => ({ wave: el.dataset.wave, status: el.dataset.status }));
  window.pitstopRange = () => ({ from: new Date(state.from).toISOString().replace(".000Z", "Z"), to: new Date(state.to).toISOString().replace(".000Z", "Z") });

  home();
  connectLive();
  load();
})();
