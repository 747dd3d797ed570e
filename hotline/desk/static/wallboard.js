// 班长监控大屏: the queues and the agents, live.
import { agentsNow, duration, el, live, since, switchLanguage, toast, translator } from "./common.js";

const t = translator({
  switch: ["English", "中文"], agents: ["坐席状态", "Agents"], extension: ["分机", "Extension"], name: ["姓名", "Name"],
  state: ["状态", "State"], duration: ["持续", "For"], waiting_calls: ["排队来电", "Calls waiting"],
  caller: ["来电号码", "Caller"], queue: ["队列", "Queue"], waited: ["已等待", "Waiting"],
  waiting: ["排队等待", "Waiting"], longest: ["最长等待", "Longest wait"], ready: ["空闲坐席", "Agents ready"],
  on_call: ["通话中", "On a call"], paused: ["示忙", "Paused"], ringing: ["振铃", "Ringing"],
  wrap_up: ["话后处理", "Wrap-up"], logged_out: ["未签入", "Logged out"], unavailable: ["不可用", "Unavailable"],
  unknown: ["未知", "Unknown"], live_on: ["实时连接", "Live"], live_off: ["实时断开", "Offline"],
  no_pbx: ["话务看板暂不可用：{0}", "Board unavailable: {0}"],
});
const $ = (id) => document.getElementById(id);
document.querySelectorAll("[data-t]").forEach((n) => { n.textContent = t(n.dataset.t); });
$("lang-switch").textContent = t("switch");
$("lang-switch").addEventListener("click", switchLanguage);

const board = { queues: new Map(), agents: new Map() };

function figure(id, label, value, alert = false) {
  return el("div", { class: `figure${alert ? " alert" : ""}`, id }, el("b", { text: value }), el("span", { text: label }));
}

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
  );
  $("agents").tBodies[0].replaceChildren(...agents.sort((a, b) => a.extension.localeCompare(b.extension)).map((a) =>
    el("tr", { dataset: { extension: a.extension, state: a.state } }, el("td", { text: a.extension }),
      el("td", { text: a.name }), el("td", { text: a.reason ? `${t(a.state)} · ${a.reason}` : t(a.state) }),
      el("td", { class: "timer", text: duration(since(a.since)) }))));
  $("waiting").tBodies[0].replaceChildren(...queues.flatMap((q) => q.callers.map((c) =>
    el("tr", {}, el("td", { text: c.caller }), el("td", { text: q.queue }), el("td", { class: "timer", text: duration(since(c.since)) })))));
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

live((m) => {
  if (m.topic === "queue") seeQueue(m);
  else if (m.topic === "agent") seeAgent(m);
  else return;
  render();
}, { onOpen: reload, onState: (up) => {
  $("live-status").dataset.state = up ? "on" : "off";
  $("live-status").textContent = t(up ? "live_on" : "live_off");
} });
setInterval(render, 1000);
