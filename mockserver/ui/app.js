// The inspector: reads the control API once a second and changes state only through it.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token");
const PAGE = 25;
const HISTORY = 300; // seconds of request rates kept for the chart
const view = { cursors: [null], filters: { dialect: "", state: "", owner: "" }, token: null, detailKey: "", stats: null };
const history = []; // [wall seconds, total requests]

function $(id) { return document.getElementById(id); }

function withToken(path) {
  if (!TOKEN) return path;
  return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(TOKEN);
}

async function api(path, options = {}) {
  const headers = Object.assign({ accept: "application/json" }, options.headers || {});
  if (TOKEN) headers["x-mock-token"] = TOKEN;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, Object.assign({}, options, { headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) }));
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((data.error && data.error.message) || response.status + " " + response.statusText);
  $("error").hidden = true;
  return data;
}

function fail(error) {
  $("error").textContent = String(error.message || error);
  $("error").hidden = false;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function clock(seconds) {
  return new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function badge(state, progress) {
  const parts = [el("span", { class: "state " + state, "data-state": state }, state)];
  if (state === "running" && typeof progress === "number") parts.push(" ", el("progress", { max: 100, value: progress }));
  return parts;
}

// -- the list ---------------------------------------------------------------------

async function refreshList() {
  const f = view.filters;
  const query = new URLSearchParams({ order: "desc", limit: String(PAGE) });
  if (f.dialect) query.set("dialect", f.dialect);
  if (f.state) query.set("state", f.state);
  if (f.owner) query.set("owner", f.owner);
  const after = view.cursors[view.cursors.length - 1];
  if (after) query.set("after", after);
  const data = await api("/_mock/operations?" + query);
  const body = $("operations").tBodies[0];
  const key = JSON.stringify(data.operations.map((op) => [op.token, op.state, op.progress, op.forced]));
  if (key === body.dataset.key) return; // unchanged: keep the rows (and the reader's place)
  body.dataset.key = key;
  body.replaceChildren(...data.operations.map((op) => {
    const row = el("tr", { "data-token": op.token },
      el("td", {}, clock(op.created_at)),
      el("td", {}, op.dialect),
      el("td", {}, op.model),
      el("td", { class: "muted" }, op.owner.slice(0, 12)),
      el("td", {}, ...badge(op.state, op.progress), op.forced ? " (forced)" : ""),
      el("td", { class: "prompt", title: String(op.inputs.prompt || "") }, String(op.inputs.prompt || "")));
    row.addEventListener("click", () => { location.hash = "#/op/" + op.token; });
    return row;
  }));
  $("older").disabled = !data.next_after;
  $("older").dataset.next = data.next_after || "";
  $("newest").disabled = view.cursors.length === 1;
  $("count").textContent = data.operations.length + " shown";
}

// -- one operation ------------------------------------------------------------------

function exchangeBlock(role, seen) {
  return el("div", { class: "exchange", "data-role": role },
    el("b", {}, role), " ", `${seen.method} ${seen.target} → ${seen.status}`,
    seen.request ? el("pre", {}, seen.request) : el("span", {}),
    el("pre", {}, seen.answer === null ? `(${seen.answer_type})` : seen.answer));
}

function renderMedia(op) {
  const box = $("d-media");
  const wanted = Object.keys(op.media).join(",");
  if (box.dataset.shown === op.token + wanted) return; // never reload a playing video
  box.dataset.shown = op.token + wanted;
  const items = [];
  for (const [variant, type] of Object.entries(op.media)) {
    const src = withToken(`/_mock/operations/${op.token}/media?variant=${variant}`);
    if (type.startsWith("video/")) items.push(el("h3", {}, "Result"), el("video", { id: "video", controls: true, muted: true, preload: "auto", src }));
    else items.push(el("h3", {}, variant), el("img", { class: "variant", alt: variant, src, "data-variant": variant }));
  }
  box.replaceChildren(...(items.length ? items : [el("p", { class: "muted" }, "No result yet.")]));
}

async function refreshDetail() {
  const op = await api(`/_mock/operations/${view.token}/detail`);
  $("d-title").textContent = `${op.title}: ${op.id}`;
  $("d-state").replaceChildren(...badge(op.state, op.progress), " since ", clock(op.state_since), " · ", op.dialect, " · ", op.model, " · key ", op.owner.slice(0, 12));
  const key = JSON.stringify([op.timeline, op.exchanges, op.deliveries.map((d) => [d.status, d.attempts])]);
  if (key !== view.detailKey) {
    view.detailKey = key;
    $("d-timeline").replaceChildren(...op.timeline.map((t) => el("li", { "data-state": t.state }, ...badge(t.state), " ", clock(t.at))),
      ...op.planned.map((t) => el("li", { class: "muted" }, `${t.state} planned at ${clock(t.at)}`)));
    $("d-inputs").textContent = JSON.stringify(op.inputs, null, 2);
    $("d-scenario").textContent = JSON.stringify(op.scenario, null, 2);
    const exchanges = Object.entries(op.exchanges);
    $("d-exchanges").replaceChildren(...(exchanges.length ? exchanges.map(([role, seen]) => exchangeBlock(role, seen)) : [el("p", { class: "muted" }, op.exchanges_kept ? "Nothing seen by this process yet." : "Not kept: the mock runs with --no-exchanges.")]));
    $("d-deliveries").tBodies[0].replaceChildren(...op.deliveries.map((d) => el("tr", {},
      el("td", {}, d.state), el("td", {}, d.url), el("td", {}, d.status), el("td", {}, d.attempts), el("td", {}, d.last))));
  }
  const states = (view.stats && view.stats.dialects[op.dialect]) ? view.stats.dialects[op.dialect].states : [];
  const force = $("d-force");
  const options = states.filter((s) => s !== "queued").join(",");
  if (force.dataset.options !== options) {
    force.dataset.options = options;
    force.replaceChildren(...states.filter((s) => s !== "queued").map((s) => el("option", { value: s }, s)));
  }
  renderMedia(op);
}

// -- the clock, the rates, the faults ----------------------------------------------

async function refreshStats() {
  const stats = await api("/_mock/stats");
  view.stats = stats;
  $("clock").textContent = clock(stats.now);
  const select = $("f-dialect");
  if (select.options.length === 1) for (const name of Object.keys(stats.dialects)) select.append(el("option", { value: name }, name));
  const total = stats.requests.reduce((sum, r) => sum + r.count, 0);
  const wall = Date.now() / 1000;
  history.push([wall, total, stats.requests]);
  while (history.length && wall - history[0][0] > HISTORY) history.shift();
  drawRates();
}

function drawRates() {
  if (history.length < 2) return;
  const rates = [];
  for (let i = 1; i < history.length; i++) rates.push((history[i][1] - history[i - 1][1]) / Math.max(history[i][0] - history[i - 1][0], 0.001));
  $("rate").textContent = rates[rates.length - 1].toFixed(1);
  const top = Math.max(1, ...rates);
  $("spark").querySelector("polyline").setAttribute("points", rates.map((r, i) => `${(240 * i) / Math.max(rates.length - 1, 1)},${31 - (29 * r) / top}`).join(" "));
  const [t0, , before] = history[history.length - 2];
  const [t1, , after] = history[history.length - 1];
  const was = new Map(before.map((r) => [`${r.dialect} ${r.status}`, r.count]));
  const now = new Map();
  for (const r of after) now.set(`${r.dialect} ${r.status}`, (now.get(`${r.dialect} ${r.status}`) || 0) + r.count - (was.get(`${r.dialect} ${r.status}`) || 0));
  $("rates").tBodies[0].replaceChildren(...[...now].filter(([, n]) => n > 0).map(([k, n]) => el("tr", {}, el("td", {}, k), el("td", {}, (n / (t1 - t0)).toFixed(1) + "/s"))));
}

async function refreshFaults() {
  const data = await api("/_mock/faults");
  $("faults").replaceChildren(...data.faults.map((rule, i) => {
    const box = el("input", { type: "checkbox", checked: true, "data-index": String(i) });
    box.addEventListener("change", async () => {
      try { await api("/_mock/faults", { method: "PUT", body: { faults: data.faults.filter((_, j) => j !== i), seed: data.seed } }); } catch (e) { fail(e); }
      refreshFaults();
    });
    return el("li", {}, box, " ", JSON.stringify(rule));
  }));
}

// -- wiring ---------------------------------------------------------------------------

async function tick() {
  try {
    await refreshStats();
    if (view.token) await refreshDetail();
    else await refreshList();
  } catch (e) { fail(e); }
}

function route() {
  const match = location.hash.match(/^#\/op\/(.+)$/);
  view.token = match ? decodeURIComponent(match[1]) : null;
  view.detailKey = "";
  $("d-media").dataset.shown = "";
  $("list-view").hidden = Boolean(view.token);
  $("detail-view").hidden = !view.token;
  tick();
}

function wire() {
  for (const [id, name] of [["f-dialect", "dialect"], ["f-state", "state"], ["f-owner", "owner"]]) {
    $(id).addEventListener("change", () => { view.filters[name] = $(id).value.trim(); view.cursors = [null]; tick(); });
  }
  $("filters").addEventListener("submit", (e) => e.preventDefault());
  $("older").addEventListener("click", () => { view.cursors.push($("older").dataset.next); tick(); });
  $("newest").addEventListener("click", () => { view.cursors = [null]; tick(); });
  $("advance").addEventListener("click", async () => {
    try { await api("/_mock/clock/advance", { method: "POST", body: { seconds: Number($("advance-seconds").value) } }); } catch (e) { fail(e); }
    tick();
  });
  $("d-force-go").addEventListener("click", async () => {
    try { await api(`/_mock/operations/${view.token}/state`, { method: "POST", body: { state: $("d-force").value } }); } catch (e) { fail(e); }
    tick();
  });
  $("reset").addEventListener("click", () => { $("reset-confirm").hidden = false; });
  $("reset-confirm").addEventListener("click", async () => {
    $("reset-confirm").hidden = true;
    try { await api("/_mock/reset", { method: "POST", body: {} }); } catch (e) { fail(e); }
    location.hash = "#/";
    tick();
  });
  $("fault-add").addEventListener("click", async () => {
    const lines = $("fault-spec").value.split("\n").map((l) => l.trim()).filter(Boolean);
    try {
      const current = await api("/_mock/faults");
      await api("/_mock/faults", { method: "PUT", body: { faults: [...current.faults, ...lines], seed: current.seed } });
      $("fault-spec").value = "";
    } catch (e) { fail(e); }
    refreshFaults();
  });
  $("fault-clear").addEventListener("click", async () => {
    try { await api("/_mock/faults", { method: "DELETE" }); } catch (e) { fail(e); }
    refreshFaults();
  });
  window.addEventListener("hashchange", route);
  route();
  refreshFaults();
  setInterval(tick, 1000);
}

wire();
