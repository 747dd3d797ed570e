// 班长监控大屏: the queues and the agents, live.
import { agentsNow, api, duration, el, lang, live, since, switchLanguage, toast, translator } from "./common.js";
import uPlot from "./vendor/uplot-1.6.32/uPlot.esm.js";

const t = translator({
  switch: ["English", "中文"], screen: ["数据大屏", "Data screen"], agents: ["坐席状态", "Agents"], extension: ["分机", "Extension"], name: ["姓名", "Name"],
  state: ["状态", "State"], duration: ["持续", "For"], waiting_calls: ["排队来电", "Calls waiting"],
  caller: ["来电号码", "Caller"], queue: ["队列", "Queue"], waited: ["已等待", "Waiting"],
  waiting: ["排队等待", "Waiting"], longest: ["最长等待", "Longest wait"], ready: ["空闲坐席", "Agents ready"],
  ready_state: ["空闲", "Ready"], on_call: ["通话中", "On a call"], paused: ["示忙", "Paused"], ringing: ["振铃", "Ringing"],
  wrap_up: ["话后处理", "Wrap-up"], logged_out: ["未签入", "Logged out"], unavailable: ["不可用", "Unavailable"],
  unknown: ["未知", "Unknown"], live_on: ["实时连接", "Live"], live_off: ["实时断开", "Offline"],
  no_pbx: ["话务看板暂不可用：{0}", "Board unavailable: {0}"],
  answered: ["今日接通", "Answered today"], abandoned: ["今日放弃", "Abandoned today"],
  answer_rate: ["接通率", "Answer rate"], within_15s: ["15秒接通率", "Answered within 15 s"],
  avg_wait: ["平均等待", "Average wait"], avg_handle: ["平均通话", "Average handle time"],
  written: ["书面诉求超3分钟", "Written contacts > 3 min"], by_hour: ["分时段话务量", "Calls per hour"],
  offered: ["呼入", "Offered"], hour: ["时", "Hour"],
  decisions: ["待决策工单", "Orders needing a decision"], overdue: ["超期", "Overdue"], due_soon: ["即将到期", "Due soon"],
  returns: ["退单待审核", "Returns awaiting review"], extensions: ["延期申请", "Extension requests"],
  dead_letters: ["投递失败（死信）", "Dead letters"], none: ["无", "None"],
  hours_late: ["超期 {0} 小时", "{0} h late"], hours_left: ["剩余 {0} 小时", "{0} h left"],
  supervise: ["督办", "Supervise"], supervise_note: ["督办：请尽快办理并回复。", "Supervision: please act and reply promptly."],
  accept: ["同意退单", "Accept"], reject: ["驳回", "Reject"], approve: ["批准", "Approve"], deny: ["不批准", "Deny"],
  spy: ["监听/耳语/强插", "Listen / whisper / barge"], listen: ["监听", "Listen"], whisper: ["耳语", "Whisper"],
  barge: ["强插", "Barge"], spying: ["{0}：您的话机将振铃，接听后开始", "{0}: your phone rings; answer it to start"],
  dissatisfied: ["市民不满意 · 重办待决定", "Dissatisfied citizens: reopened, awaiting a decision"],
  rated: ["评价 {0}", "Rated {0}"], round: ["第 {0} 次重办", "Reopen #{0}"],
  redispatch: ["改派", "Dispatch elsewhere"], redispatch_reason: ["班长改派：{0}", "Supervisor re-dispatch: {0}"],
  close_reason: ["归档理由", "Reason to close"], close: ["解释归档", "Close with reason"],
  reason_needed: ["请填写归档理由", "Enter the reason to close"],
  rating_1: ["非常不满意", "Very dissatisfied"], rating_2: ["不满意", "Dissatisfied"], rating_3: ["基本满意", "Fairly satisfied"],
  rating_4: ["满意", "Satisfied"], rating_5: ["非常满意", "Very satisfied"],
  hotspots: ["热点预警", "Hotspot alerts"], hot_place: ["地区", "Area"], hot_matter: ["事项 / 相似诉求", "Subject / similar texts"],
  hot_count: ["窗口内件数 / 平时", "In the window / usual"], hot_seen: ["首次 / 最近", "First / last seen"],
  hot_orders: ["涉及工单", "Orders involved"], hot_actions: ["处置", "Action"], hot_none: ["暂无热点预警", "No open hotspot alerts"],
  by_place_matter: ["地区×事项", "area × subject"], by_text: ["文本聚类", "text cluster"],
  hot_figures: ["{0} 分钟内 {1} 件（平时约 {2} 件）", "{1} in {0} min (usually about {2})"],
  hot_more: ["等共 {0} 件", "… {0} in all"], hot_open: ["{0} 条未处理", "{0} open"],
  merge: ["建立主单并合并", "Open a parent order and merge"], dismiss: ["关闭预警", "Dismiss"],
  merged: ["已建立主单 {0}，并入 {1} 件", "Parent order {0}; {1} merged into it"],
  dismissed: ["预警已关闭", "Alert dismissed"],
  retry: ["重新投递", "Retry"], days: ["{0} 个工作日", "{0} working days"], done: ["已处理：{0}", "Done: {0}"],
});
const $ = (id) => document.getElementById(id);
document.querySelectorAll("[data-t]").forEach((n) => { n.textContent = t(n.dataset.t); });
$("lang-switch").textContent = t("switch");
$("lang-switch").addEventListener("click", switchLanguage);

const board = { queues: new Map(), agents: new Map() };

function figure(id, label, value, alert = false) {
  return el("div", { class: `figure${alert ? " alert" : ""}`, id }, el("b", { text: value }), el("span", { text: label }));
}

const stats = { day: null, backlog: null };
const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);
const secs = (x) => (x === null || x === undefined ? "—" : duration(x));

function render() {
  const queues = [...board.queues.values()];
  const waiting = queues.reduce((n, q) => n + q.waiting, 0);
  const longest = queues.reduce((n, q) => Math.max(n, q.longest_wait_at ? since(q.longest_wait_at) : 0), 0);
  const agents = [...board.agents.values()];
  const count = (s) => agents.filter((a) => a.state === s).length;
  $("figures").replaceChildren(
    figure("f-waiting", t("waiting"), String(waiting), waiting > 0),
    figure("f-longest", t("longest"), duration(longest), longest > 60),
    figure("f-ready", t("ready"), String(count("ready"))),
    figure("f-on-call", t("on_call"), String(count("on_call"))),
    figure("f-paused", t("paused"), String(count("paused"))),
    ...(stats.day ? [
      figure("f-answered", t("answered"), String(stats.day.answered)),
      figure("f-abandoned", t("abandoned"), String(stats.day.abandoned), stats.day.abandoned > 0),
      figure("f-answer-rate", t("answer_rate"), pct(stats.day.answer_rate)),
      figure("f-within-15s", t("within_15s"), pct(stats.day.within_15s),
        stats.day.within_15s !== null && stats.day.within_15s < 0.95),
      figure("f-avg-wait", t("avg_wait"), secs(stats.day.avg_wait_seconds)),
      figure("f-avg-handle", t("avg_handle"), secs(stats.day.avg_handle_seconds)),
    ] : []),
    ...(stats.backlog ? [figure("f-written", t("written"), String(stats.backlog.written_over_3min),
      stats.backlog.written_over_3min > 0)] : []),
  );
  $("agents").tBodies[0].replaceChildren(...agents.sort((a, b) => a.extension.localeCompare(b.extension)).map((a) =>
    el("tr", { dataset: { extension: a.extension, state: a.state } }, el("td", { text: a.extension }),
      el("td", { text: a.name }), el("td", { text: `${t(a.state === "ready" ? "ready_state" : a.state)}${a.reason ? ` · ${a.reason}` : ""}` }),
      el("td", { class: "timer", text: duration(since(a.since)) }), el("td", { class: "spy" }, ...spyButtons(a)))));
  $("waiting").tBodies[0].replaceChildren(...queues.flatMap((q) => q.callers.map((c) =>
    el("tr", {}, el("td", { text: c.caller }), el("td", { text: q.queue }), el("td", { class: "timer", text: duration(since(c.since)) })))));
}

// 监听/耳语/强插: the supervisor's own phone is called into ChanSpy on the agent's channel.
function spyButtons(a) {
  if (a.state !== "on_call") return [];
  return ["listen", "whisper", "barge"].map((mode) => el("button", {
    type: "button", class: `spy-${mode}`, text: t(mode), onclick: async (e) => {
      e.target.disabled = true;
      try {
        await api("/api/v1/telephony/calls/spy", { method: "POST", body: { agent: a.extension, mode } });
        toast(t("spying", t(mode)), "ok");
      } catch (err) { toast(err.message, "error"); }
      e.target.disabled = false;
    } }));
}

function seeQueue(q) {
  const first = q.callers && q.callers[0];
  board.queues.set(q.queue, { ...q, callers: q.callers || [], longest_wait_at: first ? first.since : null });
}

function seeAgent(a) {
  const was = board.agents.get(a.extension);
  const changed = !was || was.state !== a.state || was.reason !== a.reason;
  board.agents.set(a.extension, { ...a, since: a.since || (changed ? new Date().toISOString() : was.since) });
}

async function reload() {
  try {
    const now = await agentsNow();
    now.queues.forEach(seeQueue);
    now.agents.forEach((a) => board.agents.set(a.extension, a));
    toast(now.board ? "" : t("no_pbx", "PBX"), now.board ? "info" : "error");
  } catch (err) { toast(err.message, "error"); }
  render();
}

// ------------------------------------------------------------------ the day's figures and the chart
let chart = null;
function drawHours() {
  const hours = stats.day.hours;
  const data = [hours.map((h) => h.hour), hours.map((h) => h.offered), hours.map((h) => h.answered),
    hours.map((h) => h.abandoned)];
  if (chart) { chart.setData(data); return; }
  const box = document.getElementById("hours-chart");
  chart = new uPlot({ width: Math.max(320, box.clientWidth || 800), height: 220, scales: { x: { time: false } },
    series: [{ label: t("hour") }, { label: t("offered"), stroke: "#1f6feb" }, { label: t("answered"), stroke: "#1a7f37" },
      { label: t("abandoned"), stroke: "#c62828" }], axes: [{}, {}] }, data, box);
}

async function loadStats() {
  try {
    [stats.day, stats.backlog] = await Promise.all([api("/api/v1/telephony/stats"), api("/api/v1/desk/backlog")]);
    drawHours();
    render();
  } catch (err) { toast(err.message, "error"); }
}

let statsTimer = null;
let decide = false;
function statsSoon(decisions = false) {  // a burst of events is one reload
  decide = decide || decisions;
  if (!statsTimer) {
    statsTimer = setTimeout(() => {
      statsTimer = null;
      loadStats();
      if (decide) loadDecisions();
      decide = false;
    }, 500);
  }
}

// ------------------------------------------------------------------ orders needing a decision
function rows(id, items, cells) {
  if ($(id).contains(document.activeElement) && document.activeElement.matches("input, select")) return;  // being filled in
  $(id).tBodies[0].replaceChildren(...(items.length ? items.map((x) => el("tr", { dataset: { key: String(x.number || x.id) } },
    ...cells(x).map((c) => el("td", {}, c)))) : [el("tr", {}, el("td", { text: t("none") }))]));
}

function button(label, run) {
  return el("button", { type: "button", text: label, onclick: async (e) => {
    const b = e.currentTarget;
    b.disabled = true;
    try { await run(); toast(t("done", label), "ok"); } catch (err) { toast(err.message, "error"); }
    b.disabled = false;  // a row being filled in is not redrawn: its buttons must work again
    loadDecisions();
  } });
}

const order = (n, action, body) => api(`/api/v1/workorders/${encodeURIComponent(n)}/${action}`, { method: "POST", body });

let departments = null;  // the county's departments, for 改派
async function countyDepartments() {
  if (departments === null) {
    departments = (await api("/api/v1/reference")).departments.filter((d) => d.level === "county");
  }
  return departments;
}

// 重办待决定: a dissatisfied citizen (rated 1-2, or "not resolved" on the follow-up call) past
// followup.max_reopens: the supervisor sends it elsewhere or closes it with a reason.
function decideReopened(x, depts) {
  const pick = el("select", { class: "redispatch-to", "aria-label": t("redispatch") },
    ...depts.filter((d) => d.code !== x.lead_department).map((d) => el("option", { value: d.code, text: d.name })));
  const why = el("input", { class: "close-reason", placeholder: t("close_reason"), "aria-label": t("close_reason"),
    maxlength: "2000" });
  const said = [x.rating ? t("rated", `${x.rating} ${t(`rating_${x.rating}`)}`) : "", x.reason || "", x.words || ""];
  return [x.lead_department || "—", x.number, x.title, t("round", x.round), said.filter(Boolean).join(" · "), pick,
    button(t("redispatch"), () => order(x.number, "dispatch", { lead: pick.value, expected_version: x.version,
      reason: t("redispatch_reason", x.reason || "") })),
    why, button(t("close"), () => {
      if (!why.value.trim()) return Promise.reject(new Error(t("reason_needed")));
      return order(x.number, "close", { note: why.value.trim(), expected_version: x.version });
    })];
}

async function loadDecisions() {
  const get = (path) => api(path).then((r) => r.items).catch(() => []);
  const [overdue, soon, returns, extensions, letters, reopened, depts] = await Promise.all([
    get("/api/v1/supervisor/overdue"), get("/api/v1/supervisor/due-soon"), get("/api/v1/supervisor/returns"),
    get("/api/v1/supervisor/extensions"), get("/api/v1/supervisor/dead-letters"), get("/api/v1/supervisor/reopened"),
    countyDepartments().catch(() => [])]);
  const byDept = (xs) => xs.sort((a, b) => String(a.lead_department).localeCompare(String(b.lead_department)));
  const late = (x) => [x.lead_department || "—", x.number, x.title,
    x.hours_late >= 0 ? t("hours_late", x.hours_late) : t("hours_left", -x.hours_late),
    button(t("supervise"), () => order(x.number, "progress", { note: t("supervise_note"), department: x.lead_department }))];
  rows("d-overdue", byDept(overdue), late);
  rows("d-due-soon", byDept(soon), late);
  rows("d-returns", returns, (x) => [x.department, x.number, x.title, x.reason || "",
    button(t("accept"), () => order(x.number, "review-return", { accept: true, expected_version: x.version })),
    button(t("reject"), () => order(x.number, "review-return", { accept: false, expected_version: x.version }))]);
  rows("d-extensions", extensions, (x) => [x.department || "—", x.number, x.title, t("days", x.working_days), x.reason || "",
    button(t("approve"), () => order(x.number, "decide-extension", { approve: true, expected_version: x.version })),
    button(t("deny"), () => order(x.number, "decide-extension", { approve: false, expected_version: x.version }))]);
  rows("d-dissatisfied", reopened, (x) => decideReopened(x, depts));
  rows("d-dead-letters", letters, (x) => [x.target, x.workorder || "—", x.event, x.last_error || "",
    button(t("retry"), () => api(`/api/v1/supervisor/dead-letters/${x.id}/retry`, { method: "POST", body: {} }))]);
}

// ------------------------------------------------------------------ 热点预警
// Open alerts from GET /api/v1/hotspots, kept live by the watch's `hotspot` event (raised or
// grown); the one action merges the burst under its first open order (the parent).
const alerts = new Map();
const fresh = new Set();  // raised while the board was open: marked until acted on
const when = (iso) => new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "zh-CN",
  { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });

function seeAlert(a) {
  if (a.status === "open") alerts.set(a.id, a); else alerts.delete(a.id);
}

function hotAction(label, cls, run) {
  return el("button", { type: "button", class: cls, text: label, onclick: async (e) => {
    const b = e.currentTarget;
    b.disabled = true;
    try { toast(await run(), "ok"); } catch (err) { toast(err.message, "error"); b.disabled = false; }
    loadHotspots();
  } });
}

function hotRow(a) {
  const shown = a.orders.slice(0, 6).join("、");
  return el("tr", { class: fresh.has(a.id) ? "new" : undefined, dataset: { id: String(a.id), by: a.by } },
    el("td", { text: a.place_name }),
    el("td", {}, el("strong", { text: a.matter_name }), " ", el("span", { class: "mark", text: t(`by_${a.by}`) })),
    el("td", { text: t("hot_figures", a.window_minutes, a.count, Number(a.usual.toFixed(1))) }),
    el("td", { text: `${when(a.first_at)} / ${when(a.last_at)}` }),
    el("td", { class: "orders", title: a.orders.join(" ") },
      a.orders.length > 6 ? `${shown} ${t("hot_more", a.orders.length)}` : shown),
    el("td", {},
      hotAction(t("merge"), "merge", async () => {
        const r = await api(`/api/v1/hotspots/${a.id}/merge`, { method: "POST", body: {} });
        alerts.delete(a.id);
        return t("merged", r.parent, r.merged.length);
      }), " ",
      hotAction(t("dismiss"), "dismiss", async () => {
        await api(`/api/v1/hotspots/${a.id}/close`, { method: "POST", body: {} });
        alerts.delete(a.id);
        return t("dismissed");
      })));
}

function renderHotspots() {
  const open = [...alerts.values()].sort((x, y) => y.last_at.localeCompare(x.last_at));
  // A live event redraws the list: the focused button keeps the focus (keyboard users).
  const focused = $("hot-list").contains(document.activeElement) && document.activeElement.matches("button")
    ? [document.activeElement.closest("tr").dataset.id, document.activeElement.className] : null;
  $("hotspots").dataset.count = String(open.length);
  $("hot-count").textContent = open.length ? t("hot_open", open.length) : "";
  $("hot-list").tBodies[0].replaceChildren(...(open.length ? open.map(hotRow)
    : [el("tr", {}, el("td", { colspan: "6", text: t("hot_none") }))]));
  if (focused) {
    const again = $("hot-list").querySelector(`tr[data-id="${focused[0]}"] button.${focused[1]}`);
    (again || $("hot-h")).focus();
  }
}

async function loadHotspots() {
  try {
    const open = await api("/api/v1/hotspots");
    alerts.clear();
    open.forEach(seeAlert);
  } catch (err) { toast(err.message, "error"); }
  renderHotspots();
}

live((m) => {
  if (m.topic === "hotspot") {
    if (m.new) fresh.add(m.id);
    seeAlert(m);
    renderHotspots();
    return;
  }
  if (m.topic === "call" && (m.event === "ended" || m.event === "recorded")) { statsSoon(); return; }
  if (m.topic === "workorder") { statsSoon(true); return; }
  if (m.topic === "queue") seeQueue(m);
  else if (m.topic === "agent") seeAgent(m);
  else return;
  render();
}, { onOpen: () => { reload(); loadStats(); loadDecisions(); loadHotspots(); }, onState: (up) => {
  $("live-status").dataset.state = up ? "on" : "off";
  $("live-status").textContent = t(up ? "live_on" : "live_off");
} });
setInterval(render, 1000);
setInterval(() => { loadStats(); loadDecisions(); loadHotspots(); }, 30000);  // written contacts age without an event
