// 统计报表: the KPIs of a period (docs/kpi.md) as a table, a chart per day and one per
// department, and the API's own CSV/XLSX downloads. Everything comes from
// /api/v1/reports/kpis under the session cookie; nothing is computed here but the layout.
import { api, lang, switchLanguage, toast, translator } from "/desk/static/common.js";
import uPlot from "/desk/static/vendor/uplot-1.6.32/uPlot.esm.js";

const t = translator({
  switch: ["English", "中文"], wallboard: ["监控大屏", "Wallboard"],
  from: ["开始日期", "From"], to: ["结束日期", "To"], by: ["分组", "Group by"], run: ["查询", "Show"],
  export_csv: ["导出 CSV", "Export CSV"], export_xlsx: ["导出 Excel", "Export XLSX"],
  table: ["考核指标", "KPIs"], per_day: ["每日话务量与受理量", "Calls and orders per day"],
  per_department: ["各部门按时办结率与满意率（%）", "On-time completion and satisfaction per department (%)"],
  hint: ["口径见 docs/kpi.md；空白（—）表示没有可计算的分母。",
    "Definitions: docs/kpi.md; — where there is nothing to divide."],
  all: ["全部", "All"], department: ["部门", "Department"], area: ["区域", "Area"], agent: ["话务员", "Agent"],
  channel: ["渠道", "Channel"], category: ["诉求类型", "Category"], legacy_line: ["原热线号码", "Legacy line"],
  day: ["日期", "Day"], scope: ["范围", "Scope"], bad_range: ["结束日期早于开始日期", "`To` is before `From`"],
  no_departments: ["本期没有部门数据", "No department figures in this period"],
  loading: ["正在统计…", "Counting…"],
});
const BY = ["", "department", "area", "agent", "channel", "category", "legacy_line", "day"];
const $ = (id) => document.getElementById(id);
const state = { kpis: [], charts: [] };

for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
$("lang-switch").textContent = t("switch");
$("lang-switch").addEventListener("click", switchLanguage);
for (const code of BY) $("by").append(new Option(code ? t(code) : t("all"), code));

// A rate as a percentage, seconds with one decimal, counts as they are; — for nothing to divide.
export function shown(value, kind) {
  if (value === null || value === undefined) return "—";
  if (kind === "rate") return `${(value * 100).toFixed(2)}%`;
  if (kind === "seconds") return Number(value).toFixed(1);
  return String(value);
}

const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

function initial() {
  const q = new URLSearchParams(location.search);
  // The hotline's own date (its time zone, from the server), not the browser's: a report
  // asked for just after midnight in Beijing is about the new day wherever the browser is.
  const today = document.body.dataset.today || iso(new Date());
  $("from").value = q.get("from") || `${today.slice(0, 8)}01`;
  $("to").value = q.get("to") || today;
  $("by").value = BY.includes(q.get("by") || "") ? q.get("by") || "" : "";
}

function query() {
  return { from: $("from").value, to: $("to").value, by: $("by").value };
}

function exportLinks(q) {
  for (const format of ["csv", "xlsx"]) {
    const url = new URL("/api/v1/reports/kpis", location.origin);
    url.searchParams.set("from", q.from);
    url.searchParams.set("to", q.to);
    if (q.by) url.searchParams.set("by", q.by);
    url.searchParams.set("format", format);
    url.searchParams.set("lang", lang);
    $(`export-${format}`).href = url.pathname + url.search;
    $(`export-${format}`).removeAttribute("aria-disabled");
  }
}

function renderTable(report) {
  const head = $("kpi-table").tHead, body = $("kpi-table").tBodies[0];
  const en = lang === "en";
  const tr = document.createElement("tr");
  for (const text of [report.by ? t(report.by) : t("scope"), ...report.kpis.map((k) => (en ? k.en : k.zh))]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = text;
    tr.append(th);
  }
  head.replaceChildren(tr);
  body.replaceChildren(...report.rows.map((row) => {
    const line = document.createElement("tr");
    line.dataset.group = row.group;
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = row.group_name;
    line.append(name);
    for (const k of report.kpis) {
      const td = document.createElement("td");
      td.className = "num";
      td.dataset.kpi = k.code;
      td.textContent = shown(row.values[k.code], k.kind);
      line.append(td);
    }
    return line;
  }));
}

function chart(box, opts, data) {
  const made = new uPlot({ width: Math.max(320, box.clientWidth || 800), height: 240, ...opts }, data, box);
  state.charts.push(made);
  return made;
}

function label(report, code) {
  const k = report.kpis.find((x) => x.code === code);
  return k ? (lang === "en" ? k.en : k.zh) : code;
}

function renderDays(report, q) {
  // Every day of the period, a day with no row had nothing: 0 calls, 0 orders.
  const byDay = new Map(report.rows.map((r) => [r.group, r.values]));
  const days = [];
  for (let d = new Date(`${q.from}T00:00:00`); iso(d) <= q.to && days.length < 400; d.setDate(d.getDate() + 1)) {
    days.push(iso(d));
  }
  const codes = ["calls_offered", "calls_answered", "orders_received"];
  const data = [days.map((_, i) => i), ...codes.map((c) => days.map((d) => (byDay.get(d) || {})[c] ?? 0))];
  const box = $("day-chart");
  box.replaceChildren();
  chart(box, {
    scales: { x: { time: false } },
    series: [{ label: t("day"), value: (u, i) => (i === null ? "" : days[i] || "") },
      { label: label(report, codes[0]), stroke: "#1f6feb" }, { label: label(report, codes[1]), stroke: "#1a7f37" },
      { label: label(report, codes[2]), stroke: "#b26a00" }],
    axes: [{ values: (u, splits) => splits.map((i) => (Number.isInteger(i) && days[i] ? days[i].slice(5) : "")) }, {}],
  }, data);
}

function renderDepartments(report) {
  const rows = report.rows.filter((r) => r.group);
  const box = $("dept-chart");
  box.replaceChildren();
  $("dept-names").replaceChildren(...rows.map((r) => {
    const li = document.createElement("li");
    li.textContent = r.group_name;
    return li;
  }));
  if (!rows.length) {
    box.textContent = t("no_departments");
    return;
  }
  const codes = ["on_time_completion_rate", "satisfaction_rate"];
  const pct = (v) => (v === null || v === undefined ? null : Math.round(v * 10000) / 100);
  const data = [rows.map((_, i) => i + 1), ...codes.map((c) => rows.map((r) => pct(r.values[c])))];
  const bars = uPlot.paths.bars({ size: [0.35, 60] });
  chart(box, {
    scales: { x: { time: false, range: [0.5, rows.length + 0.5] }, y: { range: [0, 100] } },
    series: [{ label: t("department"), value: (u, i) => (i === null ? "" : rows[i - 1]?.group_name || "") },
      { label: label(report, codes[0]), fill: "#1f6feb99", stroke: "#1f6feb", paths: bars, points: { show: false } },
      { label: label(report, codes[1]), fill: "#1a7f3799", stroke: "#1a7f37", paths: bars, points: { show: false } }],
    axes: [{ splits: () => rows.map((_, i) => i + 1), values: (u, splits) => splits.map((i) => String(i)) }, {}],
  }, data);
}

async function run() {
  const q = query();
  if (!q.from || !q.to) return;
  if (q.to < q.from) { toast(t("bad_range"), "error"); return; }
  toast(t("loading"));
  exportLinks(q);
  try {
    const get = (by) => api("/api/v1/reports/kpis", { query: { from: q.from, to: q.to, by } });
    const [main, days, depts] = await Promise.all([get(q.by), q.by === "day" ? null : get("day"),
      q.by === "department" ? null : get("department")]);
    for (const c of state.charts.splice(0)) c.destroy();
    renderTable(main);
    renderDays(days || main, q);
    renderDepartments(depts || main);
    toast("");
    document.body.dataset.ready = "true";
  } catch (err) {
    toast(err.message, "error");
  }
}

$("query").addEventListener("submit", (e) => { e.preventDefault(); run(); });
initial();
run();
