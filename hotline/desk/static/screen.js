// 数据大屏: the day at a glance on a wall screen, drawn with ECharts. Live: redrawn shortly
// after a call or an order changes (the live socket), and every few seconds anyway.
import { api, lang, live, switchLanguage, toast, translator } from "./common.js";
import * as echarts from "./vendor/echarts-5.6.0/echarts.esm.min.js";

const t = translator({
  switch: ["English", "中文"], board: ["返回监控大屏", "Back to the wallboard"], live_on: ["实时连接", "Live"],
  live_off: ["实时断开", "Offline"], by_hour: ["今日分时段话务量", "Calls per hour today"],
  offered: ["呼入", "Offered"], answered: ["接通", "Answered"], abandoned: ["放弃", "Abandoned"],
  answer_rate: ["接通率", "Answer rate"], within_15s: ["15秒接通率（目标 ≥ 95%）", "Answered within 15 s (target ≥ 95%)"],
  overdue: ["超期工单", "Overdue orders"], overdue_hint: ["办理时限已过、尚未回复的工单", "Past their reply deadline, not replied"],
  by_channel: ["今日受理渠道", "Orders today by channel"], by_department: ["今日各部门受理量（前10）", "Orders today by department (top 10)"],
  hotspots: ["热点预警", "Hotspot alerts"], no_hotspots: ["暂无热点预警", "No open hotspot alerts"],
  orders: ["工单", "Orders"],
});
const $ = (id) => document.getElementById(id);
document.querySelectorAll("[data-t]").forEach((n) => { n.textContent = t(n.dataset.t); });
$("lang-switch").textContent = t("switch");
$("lang-switch").addEventListener("click", switchLanguage);

const charts = new Map();
function chart(id, option) {
  let c = charts.get(id);
  if (!c) {
    c = echarts.init($(id), "dark", { renderer: "canvas" });
    charts.set(id, c);
  }
  // Merged into what is drawn: a refresh with the same figures does not animate again.
  c.setOption({ backgroundColor: "transparent", textStyle: { fontFamily: "Noto Sans CJK SC, sans-serif" }, ...option });
  $(id).dataset.drawn = "1";
  return c;
}
window.addEventListener("resize", () => charts.forEach((c) => c.resize()));

const pct = (x) => (x === null || x === undefined ? null : Math.round(x * 1000) / 10);

function gauge(id, value, target) {
  $(id).dataset.value = value === null ? "" : String(value);
  const good = value !== null && value >= target * 100;
  chart(id, { series: [{ type: "gauge", min: 0, max: 100, progress: { show: true, width: 14 },
    itemStyle: { color: good ? "#3ddc84" : "#ff6b6b" }, pointer: { show: false },
    axisLine: { lineStyle: { width: 14, color: [[target, "#c62828"], [1, "#1a7f37"]] } },
    axisTick: { show: false }, splitLine: { length: 10 }, axisLabel: { show: false },
    detail: { fontSize: 34, formatter: (v) => (value === null ? "—" : `${v}%`), offsetCenter: [0, "10%"] },
    data: [{ value: value === null ? 0 : value }] }] });
}

function hours(day) {
  const h = day.hours;
  chart("c-hours", { tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 20, top: 36, bottom: 28 },
    xAxis: { type: "category", data: h.map((x) => `${x.hour}`) }, yAxis: { type: "value", minInterval: 1 },
    series: [{ name: t("offered"), type: "bar", data: h.map((x) => x.offered), itemStyle: { color: "#4c8dff" } },
      { name: t("answered"), type: "line", data: h.map((x) => x.answered), itemStyle: { color: "#3ddc84" } },
      { name: t("abandoned"), type: "line", data: h.map((x) => x.abandoned), itemStyle: { color: "#ff6b6b" } }] });
}

function byChannel(report) {
  const data = report.rows.map((r) => ({ name: r.group_name, value: r.values.orders_received || 0 })).filter((d) => d.value);
  $("c-channels").dataset.total = String(data.reduce((n, d) => n + d.value, 0));
  chart("c-channels", { tooltip: { trigger: "item" }, legend: { bottom: 0 },
    series: [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"], label: { formatter: "{b}\n{c}" }, data }] });
}

function byDepartment(report) {
  const rows = report.rows.filter((r) => r.group)  // not dispatched yet: no department to show
    .map((r) => ({ name: r.group_name, value: r.values.orders_received || 0 }))
    .filter((d) => d.value).sort((a, b) => b.value - a.value).slice(0, 10).reverse();
  $("c-departments").dataset.count = String(rows.length);
  chart("c-departments", { tooltip: { trigger: "axis" }, grid: { left: 8, right: 30, top: 10, bottom: 20, containLabel: true },
    xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: rows.map((d) => d.name),
      axisLabel: { width: 170, overflow: "truncate" } },
    series: [{ name: t("orders"), type: "bar", data: rows.map((d) => d.value), label: { show: true, position: "right" },
      itemStyle: { color: "#f5a623" } }] });
}

function hotspots(alerts) {
  $("no-hotspots").hidden = alerts.length > 0;
  $("c-hotspots").hidden = alerts.length === 0;
  $("c-hotspots").dataset.count = String(alerts.length);
  if (!alerts.length) return;
  const top = alerts.slice(0, 8).reverse();
  chart("c-hotspots", { tooltip: { trigger: "axis" }, grid: { left: 8, right: 30, top: 10, bottom: 20, containLabel: true },
    xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: top.map((a) => `${a.place_name} · ${a.matter_name}`),
      axisLabel: { width: 170, overflow: "truncate" } },
    series: [{ name: t("orders"), type: "bar", data: top.map((a) => a.count), itemStyle: { color: "#ff6b6b" },
      label: { show: true, position: "right" } }] });
}

async function load() {
  try {
    const day = await api("/api/v1/telephony/stats");
    $("day").textContent = day.day;
    const period = { from: day.day, to: day.day };
    const [channels, depts, overdue, alerts] = await Promise.all([
      api("/api/v1/reports/kpis", { query: { ...period, by: "channel", lang } }),
      api("/api/v1/reports/kpis", { query: { ...period, by: "department", lang } }),
      api("/api/v1/supervisor/overdue", { query: { limit: 200 } }),
      api("/api/v1/hotspots"),
    ]);
    hours(day);
    gauge("c-answer", pct(day.answer_rate), 0.8);
    gauge("c-15s", pct(day.within_15s), 0.95);
    byChannel(channels);
    byDepartment(depts);
    $("s-overdue").textContent = `${overdue.items.length}${overdue.next_cursor ? "+" : ""}`;
    $("s-overdue").classList.toggle("alert", overdue.items.length > 0);
    hotspots(alerts);
    toast("");
  } catch (err) { toast(err.message, "error"); }
}

let soon = null;
function loadSoon() {  // a burst of events is one redraw
  if (!soon) soon = setTimeout(() => { soon = null; load(); }, 500);
}

live((m) => { if (m.topic === "call" || m.topic === "workorder" || m.topic === "hotspot") loadSoon(); }, {
  onOpen: load,
  onState: (up) => {
    $("live-status").dataset.state = up ? "on" : "off";
    $("live-status").textContent = t(up ? "live_on" : "live_off");
  },
});
setInterval(load, 5000);
