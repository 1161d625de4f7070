// The hub's live dashboard: subscribes to the status feed over the hub's WebSocket (SubscribeStatus; the hub pushes a
// "Status" snapshot about once a second) and renders it. No framework: plain DOM, text only (no HTML from data).
"use strict";

(() => {
  const HUB_PATH = "/aicp";
  const HISTORY = 300; // samples kept per capability, as the hub keeps
  const SETUP_HINT = "Run bash scripts/setup-npm.sh in the repository, then rebuild and restart the hub.";

  const $ = (selector, root = document) => root.querySelector(selector);
  const connectionText = $("#connection");
  const missing = $("#missing");

  const view = {
    agentFilter: null, agentPage: 0, agentPageSize: 25,
    capabilityFilter: null, capabilityPage: 0, capabilityPageSize: 10,
    routeMethod: null, routeLimit: 20,
    clusterAgentFilter: null, clusterAgentPage: 0, clusterAgentPageSize: 25,
  };
  const history = new Map(); // method -> { t, tasks, failovers, p50, p95, queue }
  const charts = new Map(); // method -> { figure, throughput, latency }
  let connection = null;
  let accessKey = "";
  let lastSnapshot = null;
  let lastPushAt = 0;
  let intervalMs = 1000;
  let generation = 0; // bumped by every new connection, so callbacks of an old one do nothing

  // The connection line is a live region: it changes only when the state does, so screen readers are not told every second.
  function setConnection(state, text) {
    if (connectionText.dataset.state === state && connectionText.textContent === text) return;
    connectionText.dataset.state = state;
    connectionText.textContent = text;
  }

  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  // ---- libraries fetched from npm at setup time --------------------------------------------------------------
  const hasSignalR = typeof window.signalR !== "undefined";
  const hasUPlot = typeof window.uPlot !== "undefined";
  if (!hasSignalR) {
    missing.hidden = false;
    missing.textContent = "The dashboard cannot connect: lib/signalr.min.js (the official SignalR browser client, npm package " +
      "@microsoft/signalr) is missing from this hub. " + SETUP_HINT;
    setConnection("error", "Not connected: the SignalR browser client is missing.");
  }
  if (!hasUPlot) {
    const notice = $("#charts-missing");
    notice.hidden = false;
    notice.textContent = "Charts are off: lib/uPlot.iife.min.js (npm package uplot) is missing from this hub; the tables still work. " + SETUP_HINT;
  }

  // ---- formatting ---------------------------------------------------------------------------------------------
  const integer = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
  const decimal = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });
  const fmtInt = (v) => (v === null || v === undefined ? "–" : integer.format(v));
  const fmtNum = (v) => (v === null || v === undefined ? "–" : decimal.format(v));
  const fmtPct = (v) => (v === null || v === undefined ? "–" : `${decimal.format(v * 100)}%`);
  const fmtTime = (iso) => new Date(iso).toLocaleTimeString("en-GB", { hour12: false });

  function fmtAge(fromIso, nowIso) {
    const s = Math.max(0, Math.round((Date.parse(nowIso) - Date.parse(fromIso)) / 1000));
    if (s < 90) return `${s} s`;
    if (s < 5400) return `${Math.round(s / 60)} min`;
    return `${decimal.format(s / 3600)} h`;
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("data-") || k.startsWith("aria-") || k === "title" || k === "scope") node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  const td = (text, cls) => el("td", { class: cls, text: text });

  // A busy-slots bar with the numbers beside it.
  function loadCell(pending, slots, label) {
    return el("td", {},
      el("meter", { min: 0, max: Math.max(1, slots), value: pending, "aria-label": `${label}: ${pending} of ${slots} slots busy` }),
      `${fmtInt(pending)} / ${fmtInt(slots)}`);
  }

  // ---- totals -------------------------------------------------------------------------------------------------
  // Labels of the hub's task totals; keys the page does not know are shown under their own name, in the hub's order.
  const TOTAL_LABELS = {
    submitted: "Submitted", completed: "Completed", failed: "Failed", timeout: "Timed out", no_agents: "No agents",
    rejected: "Rejected", overloaded: "Overloaded", cancelled: "Cancelled", rate_limited: "Rate limited",
    failovers: "Failovers", hedges: "Hedges", hedgesWon: "Hedges won", retryBudgetExhausted: "Retry budget spent",
    lateCompletions: "Late completions", foreignCompletions: "Foreign completions", forbiddenCalls: "Forbidden calls",
    oversizeResults: "Oversize results",
  };
  const BAD_TOTALS = new Set(["failed", "timeout", "no_agents", "rejected", "overloaded", "rate_limited",
    "retryBudgetExhausted", "foreignCompletions", "forbiddenCalls", "oversizeResults"]);

  function renderTotals(totals) {
    const list = $("#totals");
    const items = Object.entries(totals.tasks).map(([key, value]) => [key, TOTAL_LABELS[key] ?? key, value, BAD_TOTALS.has(key)])
      .concat([["inFlight", "In flight", totals.inFlight], ["agents", "Agents", totals.agents],
        ["connections", "Connections", totals.connections], ["subscribers", "Dashboards", totals.subscribers]]);
    list.replaceChildren(...items.map(([key, label, value, bad]) =>
      el("div", { "data-total": key, "data-tone": bad && value > 0 ? "bad" : null },
        el("dt", { text: label }), el("dd", { text: fmtInt(value), "data-value": String(value) }))));
  }

  // ---- pagers -------------------------------------------------------------------------------------------------
  function renderPager(name, page, noun) {
    const pager = $(`[data-pager="${name}"]`);
    const pages = Math.max(1, Math.ceil(page.matching / page.pageSize));
    const first = page.matching === 0 ? 0 : page.page * page.pageSize + 1;
    const last = Math.min(page.matching, (page.page + 1) * page.pageSize);
    const filtered = page.matching !== page.total ? ` (${fmtInt(page.total)} in all)` : "";
    setText($("[data-pager-text]", pager),
      `${fmtInt(first)}–${fmtInt(last)} of ${fmtInt(page.matching)} ${noun}${filtered}, page ${page.page + 1} of ${pages}`);
    pager.querySelector('[data-step="-1"]').disabled = page.page <= 0;
    pager.querySelector('[data-step="1"]').disabled = page.page >= pages - 1;
  }

  // ---- capabilities -------------------------------------------------------------------------------------------
  function renderCapabilities(page) {
    const body = $("#capabilities tbody");
    const rows = page.items.map((c, i) => {
      const trend = page.trends[i];
      const last = trend && trend.t.length ? trend.t.length - 1 : -1;
      const at = (column) => (last >= 0 ? trend[column][last] : null);
      return el("tr", { "data-method": c.method },
        el("th", { scope: "row", text: c.method }),
        td(`${fmtInt(c.healthyAgents)} / ${fmtInt(c.agents)}`),
        td(fmtInt(c.queueDepth), "num"),
        td(`${fmtInt(c.pending)} / ${fmtInt(c.capacitySlots)}`),
        el("td", { class: "num", text: fmtNum(at("tasksPerSecond")), "data-cell": "tasks-per-second" }),
        td(fmtNum(at("p50Ms")), "num"),
        td(fmtNum(at("p95Ms")), "num"),
        td(fmtNum(at("failoversPerSecond")), "num"),
        td(c.defaultStrategy));
    });
    if (rows.length === 0) rows.push(el("tr", { class: "empty" }, el("td", { colSpan: 9, text: "No capability known yet." })));
    body.replaceChildren(...rows);
    renderPager("capability", page, "capabilities");

    const names = $("#route-methods");
    names.replaceChildren(...page.items.map((c) => el("option", { value: c.method })));
  }

  function mergeTrend(trend, full) {
    let h = history.get(trend.method);
    if (!h || full) {
      h = { t: [], tasks: [], failovers: [], p50: [], p95: [], queue: [] };
      history.set(trend.method, h);
    }
    for (let i = 0; i < trend.t.length; i++) {
      const t = trend.t[i] / 1000; // uPlot's time scale is in seconds
      if (h.t.length && t <= h.t[h.t.length - 1]) continue;
      h.t.push(t);
      h.tasks.push(trend.tasksPerSecond[i]);
      h.failovers.push(trend.failoversPerSecond[i]);
      h.p50.push(trend.p50Ms[i]);
      h.p95.push(trend.p95Ms[i]);
      h.queue.push(trend.queueDepth[i]);
    }
    const excess = h.t.length - HISTORY;
    if (excess > 0) for (const key of Object.keys(h)) h[key].splice(0, excess);
    return h;
  }

  function chartOptions(title, series, width) {
    return {
      title, width, height: 130,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [{ size: 28, font: "11px system-ui" }, { size: 46, font: "11px system-ui" }],
      series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 1.5, spanGaps: false }))],
    };
  }

  function renderTrends(page, full) {
    const container = $("#trends");
    const shown = new Set();
    page.trends.forEach((trend) => {
      const h = mergeTrend(trend, full);
      shown.add(trend.method);
      let chart = charts.get(trend.method);
      if (!chart) {
        const figure = el("figure", { class: "trend", "data-method": trend.method },
          el("figcaption", { text: trend.method }));
        const throughput = el("div", { class: "chart", "data-series": "throughput", role: "img" });
        const latency = el("div", { class: "chart", "data-series": "latency", role: "img" });
        figure.append(throughput, latency);
        container.append(figure);
        chart = { figure, throughputEl: throughput, latencyEl: latency };
        if (hasUPlot) {
          const width = Math.max(300, Math.min(640, figure.clientWidth - 20 || 400));
          chart.throughput = new uPlot(chartOptions("Tasks and failovers per second",
            [["tasks/s", "#0969da"], ["failovers/s", "#cf222e"]], width), [[], [], []], throughput);
          chart.latency = new uPlot(chartOptions("Latency of completed tasks, ms",
            [["p50", "#1a7f37"], ["p95", "#9a6700"]], width), [[], [], []], latency);
        }
        charts.set(trend.method, chart);
      }
      const latest = h.tasks.length ? h.tasks[h.tasks.length - 1] : 0;
      chart.figure.dataset.points = String(h.t.length);
      chart.figure.dataset.maxTasksPerSecond = String(h.tasks.reduce((m, v) => Math.max(m, v ?? 0), 0));
      chart.throughputEl.setAttribute("aria-label",
        `${trend.method}: tasks per second over the last ${h.t.length} seconds, now ${fmtNum(latest)}`);
      const p95 = h.p95.length ? h.p95[h.p95.length - 1] : null;
      chart.latencyEl.setAttribute("aria-label", `${trend.method}: p50 and p95 latency, p95 now ${fmtNum(p95)} ms`);
      if (chart.throughput) {
        chart.throughput.setData([h.t, h.tasks, h.failovers]);
        chart.latency.setData([h.t, h.p50, h.p95]);
      }
    });
    for (const [method, chart] of charts) {
      if (shown.has(method)) continue;
      chart.throughput?.destroy();
      chart.latency?.destroy();
      chart.figure.remove();
      charts.delete(method);
    }
  }

  // ---- agents -------------------------------------------------------------------------------------------------
  function gpuText(gpus) {
    if (!gpus || gpus.length === 0) return "–";
    return gpus.map((g) => {
      const used = (g.memoryUsedBytes / 2 ** 30).toFixed(1);
      const total = (g.memoryTotalBytes / 2 ** 30).toFixed(0);
      const temperature = g.temperatureC === null || g.temperatureC === undefined ? "" : ` ${g.temperatureC}°C`;
      return `#${g.index} ${g.name}: ${g.utilizationPercent}% busy, ${used}/${total} GiB${temperature}`;
    }).join("; ");
  }

  function renderAgents(page, at) {
    const body = $("#agents tbody");
    const rows = page.items.map((a) => {
      const latency = Object.entries(a.latencyMs || {}).map(([m, ms]) => `${m} ${fmtNum(ms)} ms`).join(", ") || "–";
      const circuit = el("td", {}, el("span", { class: `badge circuit-${a.circuitState}`, text: a.circuitState }),
        a.draining ? el("span", { class: "draining", text: "draining" }) : null);
      return el("tr", { "data-agent-id": a.id },
        el("th", { scope: "row", text: a.id }),
        td(a.capabilities.join(", "), "wrap"),
        loadCell(a.pending, a.maxConcurrency, a.id),
        td(latency, "wrap"),
        td(fmtNum(a.trust), "num"),
        td(fmtPct(a.successRate), "num"),
        circuit,
        td(fmtInt(a.reportedLoad?.queueDepth), "num"),
        td(gpuText(a.reportedLoad?.gpus), "wrap"),
        el("td", { title: a.connectedAt, text: `${fmtAge(a.connectedAt, at)} ago` }));
    });
    if (rows.length === 0) {
      const text = page.total === 0 ? "No agent is connected." : "No agent matches the filter.";
      rows.push(el("tr", { class: "empty" }, el("td", { colSpan: 10, text })));
    }
    body.replaceChildren(...rows);
    renderPager("agent", page, "agents");
  }

  // ---- cluster ------------------------------------------------------------------------------------------------
  // Only on a node of a cluster: the snapshot has no cluster section on a hub alone, and the panel stays hidden.
  function renderCluster(cluster, at) {
    const section = $("#cluster");
    section.hidden = !cluster;
    if (!cluster) return;

    const redis = el("span", { class: `badge redis-${cluster.redis}`, "data-redis": cluster.redis, text: `Redis ${cluster.redis}` });
    const shown = cluster.nodes.length < cluster.totalNodes ? ` (the first ${fmtInt(cluster.nodes.length)} shown)` : "";
    const detail = cluster.redis === "up"
      ? `${fmtInt(cluster.totalNodes)} live node(s)${shown}.`
      : "Redis unreachable: this node serves its own agents alone and does not see the others.";
    const updated = cluster.updatedAt ? ` Last heartbeat ${fmtAge(cluster.updatedAt, at)} ago.` : " No heartbeat yet.";
    $("#cluster-state").replaceChildren(`This node: ${cluster.node}. `, redis, ` ${detail}${updated}`);

    const nodes = cluster.nodes.map((n) => el("tr", { "data-node": n.node },
      el("th", { scope: "row" }, n.node, n.self ? el("span", { class: "self", text: "this node" }) : null),
      el("td", { title: n.at, text: `${fmtAge(n.at, at)} ago` }),
      el("td", { class: "num", text: fmtInt(n.agents), "data-cell": "agents" }),
      loadCell(n.pending, n.slots, n.node)));
    $("#cluster-nodes tbody").replaceChildren(...nodes);

    const page = cluster.agents;
    const rows = page.items.map(({ node, agent: a }) => el("tr", { "data-cluster-agent-id": a.id, "data-node": node },
      el("th", { scope: "row", text: a.id }),
      td(node),
      td(a.capabilities.join(", "), "wrap"),
      loadCell(a.pending, a.maxConcurrency, a.id),
      el("td", {}, el("span", { class: `badge agent-${a.healthy ? "healthy" : "unhealthy"}`, text: a.healthy ? "healthy" : "unhealthy" }),
        a.draining ? el("span", { class: "draining", text: "draining" }) : null)));
    if (rows.length === 0) {
      const text = page.total === 0 ? "No agent on the other nodes." : "No agent matches the filter.";
      rows.push(el("tr", { class: "empty" }, el("td", { colSpan: 5, text })));
    }
    $("#cluster-agents tbody").replaceChildren(...rows);
    renderPager("clusterAgent", page, "agents");
  }

  // ---- routes -------------------------------------------------------------------------------------------------
  function renderRoutes(routes) {
    const body = $("#routes tbody");
    const rows = routes.map((r) => el("tr", { "data-sequence": String(r.sequence) },
      td(fmtTime(r.at)),
      td(r.method),
      td(r.strategy ?? "–"),
      td(fmtInt(r.candidates), "num"),
      td(r.agentId),
      td(`${fmtInt(r.inputs.pending)}, ${fmtNum(r.inputs.latencyEstimateMs)} ms, ${fmtNum(r.inputs.trust)}`),
      el("td", {}, el("span", { class: `badge outcome-${r.outcome}`, text: r.errorCode ? `${r.outcome} (${r.errorCode})` : r.outcome })),
      td(fmtNum(r.ms), "num")));
    if (rows.length === 0) rows.push(el("tr", { class: "empty" }, el("td", { colSpan: 8, text: "No routing decision yet." })));
    body.replaceChildren(...rows);
  }

  // ---- the feed -----------------------------------------------------------------------------------------------
  function render(snapshot) {
    lastSnapshot = snapshot;
    lastPushAt = Date.now();
    renderTotals(snapshot.totals);
    renderCapabilities(snapshot.capabilities);
    renderTrends(snapshot.capabilities, snapshot.full);
    renderAgents(snapshot.agents, snapshot.at);
    renderRoutes(snapshot.routes);
    renderCluster(snapshot.cluster, snapshot.at);
    document.body.dataset.updated = snapshot.at;
    $("#updated").textContent = `Updated ${fmtTime(snapshot.at)}`;
    setConnection("live", `Live: the hub pushes an update about every ${decimal.format(intervalMs / 1000)} s.`);
  }

  function clearData() {
    lastSnapshot = null;
    $("#totals").replaceChildren();
    for (const id of ["#capabilities", "#agents", "#routes", "#cluster-nodes", "#cluster-agents"]) $(`${id} tbody`).replaceChildren();
    $("#cluster").hidden = true;
    for (const chart of charts.values()) {
      chart.throughput?.destroy();
      chart.latency?.destroy();
      chart.figure.remove();
    }
    charts.clear();
    history.clear();
    delete document.body.dataset.updated;
    $("#updated").textContent = "";
  }

  function explain(error) {
    const message = String(error?.message ?? error);
    const status = error?.statusCode;
    if (status === 401 || /\b401\b/.test(message)) {
      return ["refused", accessKey
        ? "Refused: the hub does not accept this key (401). Enter a valid key with the admin role."
        : "Refused: this hub needs a credential (401). Enter a key with the admin role."];
    }
    if (status === 403 || /\b403\b/.test(message)) return ["refused", "Refused: this credential may not open a hub connection (403)."];
    if (/forbidden/.test(message)) {
      return ["refused", "Refused: this credential lacks the admin role, and the status feed is for admins only. Enter an admin key."];
    }
    if (/overloaded/.test(message)) return ["error", "Refused: the hub has as many dashboards open as it allows. Try again later."];
    return ["error", `Not connected: ${message}`];
  }

  async function subscribe(conn, gen) {
    const subscription = await conn.invoke("SubscribeStatus", view);
    if (gen !== generation) return;
    intervalMs = subscription.intervalMs;
  }

  async function connect() {
    if (!hasSignalR) return;
    const gen = ++generation;
    const previous = connection;
    connection = null;
    if (previous) await previous.stop().catch(() => {});
    clearData();
    setConnection("connecting", "Connecting…");

    const conn = new signalR.HubConnectionBuilder()
      .withUrl(HUB_PATH, {
        transport: signalR.HttpTransportType.WebSockets,
        accessTokenFactory: accessKey ? () => accessKey : undefined,
      })
      .withAutomaticReconnect({ nextRetryDelayInMilliseconds: (ctx) => Math.min(10000, 500 * 2 ** ctx.previousRetryCount) })
      .configureLogging(signalR.LogLevel.None)
      .build();
    conn.on("Status", (snapshot) => { if (gen === generation) render(snapshot); });
    conn.onreconnecting(() => { if (gen === generation) setConnection("reconnecting", "Connection lost: reconnecting…"); });
    conn.onreconnected(() => {
      if (gen !== generation) return;
      setConnection("connecting", "Reconnected: subscribing…");
      subscribe(conn, gen).catch((e) => { if (gen === generation) fail(e, conn); });
    });
    conn.onclose((e) => {
      if (gen !== generation || connectionText.dataset.state === "refused") return;
      setConnection("error", `Disconnected${e ? `: ${e.message}` : ""}. Retrying in 5 s…`);
      setTimeout(() => { if (gen === generation) connect(); }, 5000);
    });
    connection = conn;
    try {
      await conn.start();
      if (gen !== generation) return;
      await subscribe(conn, gen);
    } catch (e) {
      if (gen === generation) fail(e, conn);
    }
  }

  function fail(error, conn) {
    const [state, text] = explain(error);
    clearData();
    setConnection(state, text);
    if (state === "refused") {
      conn.stop().catch(() => {});
    } else if (conn.state === signalR.HubConnectionState.Disconnected) {
      const gen = generation;
      setTimeout(() => { if (gen === generation) connect(); }, 5000);
    }
  }

  function changeView(change) {
    Object.assign(view, change);
    if (connection && connection.state === signalR.HubConnectionState.Connected) {
      subscribe(connection, generation).catch((e) => fail(e, connection));
    }
  }

  // ---- controls -----------------------------------------------------------------------------------------------
  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    accessKey = $("#key").value.trim();
    connect();
  });

  const timers = new Map();
  for (const input of document.querySelectorAll("input[data-view]")) {
    input.addEventListener("input", () => {
      clearTimeout(timers.get(input));
      timers.set(input, setTimeout(() => {
        const key = input.dataset.view;
        const value = input.value.trim() || null;
        const reset = key === "agentFilter" ? { agentPage: 0 } : key === "capabilityFilter" ? { capabilityPage: 0 }
          : key === "clusterAgentFilter" ? { clusterAgentPage: 0 } : {};
        changeView({ [key]: value, ...reset });
      }, 300));
    });
  }

  for (const pager of document.querySelectorAll("[data-pager]")) {
    const key = `${pager.dataset.pager}Page`;
    pager.addEventListener("click", (event) => {
      const step = Number(event.target?.dataset?.step);
      if (!step || !lastSnapshot) return;
      const pages = { agent: lastSnapshot.agents, capability: lastSnapshot.capabilities, clusterAgent: lastSnapshot.cluster?.agents };
      const current = pages[pager.dataset.pager];
      if (!current) return;
      const page = current.page;
      changeView({ [key]: Math.max(0, page + step) });
    });
  }

  // A feed that stops without the connection noticing.
  setInterval(() => {
    if (connectionText.dataset.state === "live" && Date.now() - lastPushAt > Math.max(5000, intervalMs * 3)) {
      setConnection("stale", `No update from the hub since ${fmtTime(new Date(lastPushAt).toISOString())}.`);
    }
  }, 1000);

  connect();
})();
