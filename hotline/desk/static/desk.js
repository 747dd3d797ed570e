// 坐席工作台: the agent's state in the queues, the softphone, the screen pop and the order
// being taken. Live over /api/v1/live; every change through the JSON API.
import { assistInto } from "./assist.js";
import { agentsNow, api, duration, el, lang, live, since, switchLanguage, toast, translator } from "./common.js";
import { showDuplicates } from "./duplicates.js";
import { followupPanel } from "./followup.js";
import { knowledgePanel } from "./knowledge.js";

const t = translator({
  switch: ["English", "中文"], logout: ["退出", "Log out"], phone: ["软电话", "Softphone"],
  queue_in: ["签入队列", "Log in to queue"], queue_out: ["签出队列", "Log out of queue"],
  ready: ["示闲（就绪）", "Ready"], pause: ["示忙", "Pause"],
  answer: ["接听", "Answer"], hangup: ["挂断", "Hang up"], mute: ["静音", "Mute"], hold: ["保持", "Hold"],
  keys: ["快捷键：Alt+A 接听 · Alt+H 挂断 · Alt+M 静音 · Alt+O 保持 · Alt+R 示闲 · Alt+P 示忙 · Alt+Q 签入/签出 · Alt+S 保存 · Alt+D 派单 · Alt+K 知识库",
         "Keys: Alt+A answer · Alt+H hang up · Alt+M mute · Alt+O hold · Alt+R ready · Alt+P pause · Alt+Q queue · Alt+S save · Alt+D dispatch · Alt+K knowledge"],
  sip_off: ["软电话未启用", "No softphone"], sip_connecting: ["软电话连接中", "Softphone connecting"],
  sip_registered: ["软电话已注册", "Softphone registered"], sip_down: ["软电话断开", "Softphone disconnected"],
  sip_failed: ["软电话注册失败：{0}", "Softphone failed: {0}"],
  live_on: ["实时连接", "Live"], live_off: ["实时断开", "Offline"],
  logged_out: ["未签入", "Logged out"], ready_state: ["空闲", "Ready"], paused: ["示忙", "Paused"],
  ringing: ["振铃", "Ringing"], on_call: ["通话中", "On a call"], wrap_up: ["话后处理", "Wrap-up"],
  unavailable: ["话机不可用", "Phone unavailable"], unknown: ["未知", "Unknown"],
  idle: ["无通话", "No call"], call_ringing: ["来电振铃", "Incoming call"], talking: ["通话中", "Talking"],
  held: ["保持中", "On hold"], ended: ["通话结束", "Call ended"],
  pop: ["来电弹屏", "Screen pop"], caller: ["来电号码", "Caller"], line: ["所拨线路", "Line dialled"],
  bureau: ["原主管部门", "Bureau"], waited: ["排队等待", "Waited"], name: ["姓名", "Name"],
  frequent: ["高频来电", "Frequent caller"], confidential_reporter: ["保密举报人", "Confidential reporter"],
  new_caller: ["首次来电", "First contact"], open_orders: ["在办工单", "Open orders"], history: ["历史诉求", "Earlier orders"],
  number: ["工单号", "Number"], channel: ["渠道", "Channel"], title: ["标题", "Title"], status: ["状态", "Status"],
  rating: ["评价", "Rating"], contacts: ["各渠道来信：{0}", "Contacts by channel: {0}"], none: ["无", "None"],
  confidential_order: ["（保密举报）", "(confidential report)"],
  order: ["工单", "Order"], contact_name: ["联系人", "Contact name"], confidential: ["保密（举报人信息不外露）", "Confidential"],
  description: ["诉求内容", "Description"], category: ["诉求类型", "Category"], urgency: ["紧急程度", "Urgency"],
  subject_search: ["事项搜索", "Find a subject"], subject_group: ["事项大类", "Subject group"], subject: ["事项", "Subject"],
  town: ["镇街", "Town"], village: ["村社区", "Village"], address: ["地址", "Address"],
  lead: ["主办部门", "Lead department"], assisting: ["协办部门", "Assisting"],
  save: ["保存", "Save"], register: ["受理登记", "Register"], dispatch: ["派单", "Dispatch"],
  answer_text: ["答复内容（直接办结）", "Answer (resolve directly)"], resolve: ["直接办结", "Resolve directly"],
  invalid_reason: ["无效原因", "Reason"], invalid: ["无效/骚扰", "Invalid / nuisance"],
  routing: ["派单建议：{0}（{1}）", "Suggested: {0} ({1})"], no_routing: ["无派单建议：{0}", "No suggestion: {0}"],
  duplicates: ["疑似重复：{0}", "Possible duplicates: {0}"], merge: ["并入", "Merge into"],
  choose: ["请选择", "Choose"], saved: ["已保存", "Saved"], done: ["已{0}：{1}", "{0}: {1}"],
  knowledge: ["知识库", "Knowledge base"], followup: ["回访任务", "Follow-up tasks"],
  panel_waiting: ["该面板由知识库/回访模块提供，尚未启用。", "This panel is filled by a module not installed yet."],
  kb_resolve: ["引用知识库办结", "Resolve from the knowledge base"], merged: ["并单", "Merge"],
  fax_preview: ["传真第 1 页预览", "Fax, page 1"], fax_original: ["查看传真原件", "Open the original fax"],
  recording: ["通话录音", "Recording"], no_phone: ["本账号没有分机号", "No extension on this account"],
  wrap_left: ["话后处理，剩余 {0}", "Wrap-up, {0} left"],
  draft: ["通话中（草稿）", "Draft"],
  inbox: ["书面诉求收件箱", "Written contacts inbox"], waiting: ["已等待", "Waiting"], claimed: ["处理人", "Claimed by"],
  claim: ["认领处理", "Claim"], continue: ["继续处理", "Continue"], release: ["释放", "Release"],
  callbacks: ["回拨任务", "Callback tasks"], reason: ["原因", "Reason"], age: ["未接时长", "Since"],
  attempts: ["已拨/未接", "Tries / missed"], call_back: ["回拨", "Call back"], dialling: ["正在回拨 {0}", "Calling {0} back"],
  abandoned: ["放弃", "Abandoned"], overflowed: ["溢出", "Overflowed"], after_hours: ["非工作时间", "After hours"],
  sms: ["短信", "SMS"], wechat: ["微信", "WeChat"], web: ["网站", "Web"], app: ["App", "App"], fax: ["传真", "Fax"],
  phone_ch: ["电话", "Phone"], x_department: ["转接/三方部门", "Department"], x_transfer: ["转接", "Transfer"],
  x_conference: ["三方通话", "Three-way call"], x_number: ["外呼号码", "Number to call"], x_dial: ["外呼", "Call"],
  calling: ["正在外呼 {0}", "Calling {0}"], transferred: ["已转接：{0}", "Transferred: {0}"], conferenced: ["三方通话：{0}", "Three-way call: {0}"],
});

const $ = (id) => document.getElementById(id);
const state = {
  session: null, ref: null, me: null, agent: { state: "logged_out", reason: null, since: new Date().toISOString() },
  call: null, lastRinging: null, order: null, phone: null, wrapTimer: null, wrapUntil: null, popped: null,
};

// ------------------------------------------------------------------ static texts
document.querySelectorAll("[data-t]").forEach((n) => { n.textContent = t(n.dataset.t); });
for (const [id, key] of [["lang-switch", "switch"], ["logout", "logout"], ["ready", "ready"], ["pause", "pause"],
  ["answer", "answer"], ["hangup", "hangup"], ["mute", "mute"], ["hold", "hold"], ["o-save", "save"],
  ["o-register", "register"], ["o-dispatch", "dispatch"], ["o-resolve", "resolve"], ["o-invalid", "invalid"],
  ["x-transfer", "x_transfer"], ["x-conference", "x_conference"], ["x-dial", "x_dial"]]) {
  $(id).textContent = t(key);
}
document.querySelector("label:has(#o-answer) span").textContent = t("answer_text");
$("lang-switch").addEventListener("click", switchLanguage);
$("logout").addEventListener("click", async () => {
  await api("/api/v1/auth/logout", { method: "POST" }).catch(() => null);
  location.href = "/login";
});

function fail(err) {
  toast(err.message || String(err), "error");
}

// ------------------------------------------------------------------ the agent's state
function showAgent() {
  const a = state.agent;
  const wrap = a.state === "paused" && a.reason === state.session.wrapup_reason;
  const label = wrap ? t("wrap_up") : a.state === "paused" && a.reason ? `${t("paused")} · ${a.reason}`
    : t(a.state === "ready" ? "ready_state" : a.state);
  $("state").textContent = label;
  $("state").dataset.state = wrap ? "wrap_up" : a.state;
  const inQueue = a.state !== "logged_out";
  $("queue-toggle").textContent = inQueue ? t("queue_out") : t("queue_in");
  $("ready").disabled = !inQueue || a.state === "ready";
  $("pause").disabled = !inQueue;
}

function seeAgent(m) {
  if (m.state !== state.agent.state || m.reason !== state.agent.reason) {
    state.agent = { state: m.state, reason: m.reason || null, since: m.since || new Date().toISOString() };
  }
  showAgent();
}

async function queue(action, body = {}) {
  try {
    await api(`/api/v1/telephony/agent/${action}`, { method: "POST", body });
  } catch (err) { fail(err); }
}

$("queue-toggle").addEventListener("click", () => queue(state.agent.state === "logged_out" ? "login" : "logout"));
$("ready").addEventListener("click", () => { stopWrapUp(); queue("unpause"); });
$("pause").addEventListener("click", () => { stopWrapUp(); queue("pause", { reason: $("pause-reason").value }); });

// 话后处理: after a call the agent is paused for wrapup_seconds, then ready again, unless
// they chose to be ready earlier or to pause for another reason.
function startWrapUp() {
  const secs = state.session.wrapup_seconds;
  if (!secs || state.agent.state === "logged_out" || state.agent.state === "paused") return;
  state.wrapUntil = Date.now() + secs * 1000;
  queue("pause", { reason: state.session.wrapup_reason });
  state.wrapTimer = setTimeout(() => { stopWrapUp(); queue("unpause"); }, secs * 1000);
}

function stopWrapUp() {
  if (state.wrapTimer) clearTimeout(state.wrapTimer);
  state.wrapTimer = null;
  state.wrapUntil = null;
}

setInterval(() => {
  $("state-time").textContent = state.wrapUntil ? t("wrap_left", duration((state.wrapUntil - Date.now()) / 1000))
    : duration(since(state.agent.since));
  if (state.call && state.call.answeredAt) $("call-timer").textContent = duration((Date.now() - state.call.answeredAt) / 1000);
}, 500);

// ------------------------------------------------------------------ the call
function showCall(phase) {
  $("call-state").textContent = t(phase);
  $("call-state").dataset.state = phase;
  const soft = state.phone;
  $("answer").disabled = !(soft && soft.incoming);
  $("hangup").disabled = phase === "idle" || phase === "ended";
  $("mute").disabled = $("hold").disabled = !(soft && soft.inCall);
  document.querySelectorAll("#dialpad button").forEach((b) => { b.disabled = !(soft && soft.inCall); });
  if (phase === "idle" || phase === "ended") $("call-timer").textContent = "";
  // Transfer and three-way go through the PBX (AMI), whatever phone the agent uses.
  $("x-transfer").disabled = $("x-conference").disabled = !["talking", "held"].includes(phase);
}

async function control(path, body, done) {
  try {
    const r = await api(`/api/v1/telephony/calls/${path}`, { method: "POST", body });
    toast(done(r), "ok");
  } catch (err) { fail(err); }
}
$("x-transfer").addEventListener("click", () => control("transfer", { department: $("x-department").value },
  () => t("transferred", $("x-department").selectedOptions[0].text)));
$("x-conference").addEventListener("click", () => control("conference", { department: $("x-department").value },
  () => t("conferenced", $("x-department").selectedOptions[0].text)));
$("x-dial").addEventListener("click", () => control("originate", { number: $("x-number").value.trim() },
  () => t("calling", $("x-number").value.trim())));

$("answer").addEventListener("click", () => state.phone && state.phone.incoming && state.phone.answer().catch(fail));
$("hangup").addEventListener("click", async () => {
  if (state.phone && (state.phone.incoming || state.phone.inCall)) return state.phone.hangup().catch(fail);
  // A desk phone or another softphone: the PBX hangs the agent's channel up.
  try { await api("/api/v1/telephony/calls/hangup", { method: "POST", body: {} }); } catch (err) { fail(err); }
});
$("mute").addEventListener("click", () => {
  const on = !state.phone.muted;
  state.phone.mute(on);
  $("mute").setAttribute("aria-pressed", String(on));
  $("mute").classList.toggle("on", on);
});
$("hold").addEventListener("click", async () => {
  const on = !state.phone.held;
  await state.phone.hold(on).catch(fail);
  $("hold").setAttribute("aria-pressed", String(on));
  $("hold").classList.toggle("on", on);
  showCall(on ? "held" : "talking");
});
for (const key of "123456789*0#") {
  $("dialpad").append(el("button", { type: "button", text: key, "aria-label": `DTMF ${key}`, disabled: true,
    onclick: () => state.phone && state.phone.dtmf(key).catch(fail) }));
}

// The keyboard alone drives the desk: Alt+letter presses the button (see the hint).
const KEYS = { KeyA: "answer", KeyH: "hangup", KeyM: "mute", KeyO: "hold", KeyR: "ready", KeyP: "pause",
  KeyQ: "queue-toggle", KeyS: "o-save", KeyD: "o-dispatch" };
document.addEventListener("keydown", (e) => {
  if (e.altKey && !e.ctrlKey && !e.metaKey && e.code === "KeyK" && panel.knowledge) {
    if (panel.knowledge.focus()) e.preventDefault();
    return;
  }
  const target = e.altKey && !e.ctrlKey && !e.metaKey && KEYS[e.code] && $(KEYS[e.code]);
  if (target) {
    e.preventDefault();
    if (!target.disabled && !target.closest("[hidden]")) target.click();
    return;
  }
  if (state.phone && state.phone.inCall && /^[0-9*#]$/.test(e.key) && document.activeElement.closest("#phone")) {
    state.phone.dtmf(e.key).catch(fail);
  }
});

async function startSoftphone() {
  const sip = $("sip-status");
  const account = state.session.softphone;
  if (!account) { sip.textContent = t(state.me.extension ? "sip_off" : "no_phone"); return; }
  sip.textContent = t("sip_connecting");
  sip.dataset.state = "connecting";
  try {
    const { Softphone } = await import("./softphone.js");
    const phone = state.phone = new Softphone(account, $("remote-audio"));
    const set = (s, key) => { sip.dataset.state = s; sip.textContent = t(key); };
    phone.addEventListener("registered", () => set("on", "sip_registered"));
    phone.addEventListener("unregistered", () => set("off", "sip_down"));
    phone.addEventListener("disconnected", () => set("off", "sip_down"));
    phone.addEventListener("ringing", () => showCall("call_ringing"));
    phone.addEventListener("answered", () => showCall("talking"));
    phone.addEventListener("hangup", () => showCall("ended"));
    await phone.start();
  } catch (err) {
    sip.dataset.state = "off";
    sip.textContent = t("sip_failed", err.message || err);
  }
}

// ------------------------------------------------------------------ the screen pop
async function screenPop(call) {
  if (state.popped === call.linkedid) return;
  state.popped = call.linkedid;
  let p;
  try { p = await api("/api/v1/desk/pop", { query: { linkedid: call.linkedid, caller: call.caller } }); } catch (err) { return fail(err); }
  const facts = $("pop-facts");
  facts.replaceChildren();
  const add = (k, v) => facts.append(el("dt", { text: t(k) }), el("dd", { text: v }));
  add("caller", p.confidential ? `${p.caller} · ${t("confidential_reporter")}` : p.caller);
  add("line", p.line.legacy ? `${p.line.number} ${lang === "en" && p.line.name_en ? p.line.name_en : p.line.name}` : p.line.number);
  if (p.line.legacy) add("bureau", p.line.bureau);
  add("waited", duration(p.wait_seconds || 0));
  add("name", p.confidential ? t("confidential_reporter") : p.name || "—");
  const marks = $("pop-marks");
  marks.replaceChildren();
  if (!p.known) marks.append(el("span", { class: "mark", text: t("new_caller") }));
  if (p.frequent) marks.append(el("span", { class: "mark warn", id: "frequent-mark", text: `${t("frequent")} · ${p.recent_orders}` }));
  if (p.confidential) marks.append(el("span", { class: "mark secret", text: t("confidential_reporter") }));
  const statusName = (code) => (state.ref.statuses.find((s) => s.code === code) || { name: code }).name;
  const title = (o) => o.confidential ? t("confidential_order") : o.title;
  $("pop-open").replaceChildren(...(p.open_orders.length ? p.open_orders.map((o) =>
    el("li", {}, el("code", { text: o.number }), " ", title(o), " · ", statusName(o.status))) : [el("li", { text: t("none") })]));
  $("pop-orders").tBodies[0].replaceChildren(...p.orders.map((o) => el("tr", { dataset: { number: o.number } },
    el("td", { text: o.number }), el("td", { text: o.channel }), el("td", { text: title(o) }),
    el("td", { text: statusName(o.status) }), el("td", { text: o.rating === null ? "—" : String(o.rating) }))));
  const contacts = Object.entries(p.contacts).map(([c, n]) => `${c} ${n}`).join(" · ");
  $("pop-contacts").textContent = t("contacts", contacts || t("none"));
  $("pop").hidden = false;
}

// ------------------------------------------------------------------ the order
function options(select, items, { blank = true, value = "code", label = "name" } = {}) {
  select.replaceChildren(...(blank ? [el("option", { value: "", text: t("choose") })] : []),
    ...items.map((x) => el("option", { value: x[value], text: x[label] })));
}

function pickers() {
  const ref = state.ref;
  options($("o-category"), ref.categories);
  options($("o-urgency"), ref.urgencies, { blank: false });
  options($("o-subject-group"), ref.subjects);
  const towns = ref.departments.filter((d) => d.level === "town");
  options($("o-town"), towns);
  const counties = ref.departments.filter((d) => d.level === "county");
  options($("o-lead"), ref.departments);
  options($("x-department"), ref.departments.filter((d) => d.level === "county"), { blank: false });
  options($("o-assisting"), counties, { blank: false });
  $("o-subject-group").addEventListener("change", () => subjects());
  $("o-subject-search").addEventListener("input", () => subjects());
  $("o-town").addEventListener("change", () => villages());
  for (const id of ["o-category", "o-subject", "o-village", "o-town"]) $(id).addEventListener("change", () => suggest());
  // As the agent types: the knowledge base and the routing assist follow the draft's words.
  for (const id of ["o-title", "o-description"]) {
    $(id).addEventListener("input", () => { if (panel.knowledge) panel.knowledge.soon(); suggestSoon(); });
  }
}

function subjects(selected) {
  const q = $("o-subject-search").value.trim().toLowerCase();
  const group = $("o-subject-group").value;
  const leaves = state.ref.subjects.filter((g) => !group || g.code === group).flatMap((g) =>
    g.children.map((c) => ({ code: c.code, name: `${g.name} › ${c.name}` })))
    .filter((c) => !q || c.name.toLowerCase().includes(q) || c.code.includes(q));
  options($("o-subject"), leaves);
  if (selected) $("o-subject").value = selected;
}

function villages(selected) {
  const town = $("o-town").value;
  options($("o-village"), state.ref.departments.filter((d) => d.level === "village" && d.parent === town));
  if (selected) $("o-village").value = selected;
}

function fill(o) {
  state.order = o;
  $("order").hidden = false;
  $("o-number").textContent = o.number;
  $("o-status").textContent = o.status_name;
  $("o-phone").value = (o.citizen && o.citizen.phone) || "";
  $("o-contact").value = (o.citizen && o.citizen.name) || "";
  $("o-title").value = o.title || "";
  $("o-description").value = o.description || "";
  $("o-confidential").checked = o.confidential;
  $("o-urgency").value = o.urgency || "normal";
  const line = o.legacy_line && state.ref.legacy_lines.find((l) => l.number === o.legacy_line);
  $("o-category").value = o.category || "";
  // A legacy line names its department: the lead's first guess until routing says better.
  if (!o.lead_department && line) $("o-lead").value = line.department;
  const group = o.subject && state.ref.subjects.find((g) => g.children.some((c) => c.code === o.subject));
  $("o-subject-group").value = group ? group.code : "";
  subjects(o.subject);
  const area = o.area && state.ref.departments.find((d) => d.code === o.area);
  const town = area && (area.level === "village" ? area.parent : area.code);
  $("o-town").value = town || "";
  villages(area && area.level === "village" ? area.code : "");
  $("o-address").value = o.address || "";
  const editable = ["draft", "registered", "reopened"].includes(o.status);
  $("o-register").disabled = o.status !== "draft";
  $("o-dispatch").disabled = !["draft", "registered", "reopened"].includes(o.status);
  $("o-resolve").disabled = $("o-invalid").disabled = !editable;
  $("o-save").disabled = !editable;
  const rec = o.attachments.find((a) => a.kind === "recording");
  $("o-recording").replaceChildren(...(o.call_id && rec ? [t("recording"), " ",
    el("audio", { controls: true, preload: "none", src: `/api/v1/telephony/calls/${encodeURIComponent(o.call_id)}/recording` })] : []));
  const files = `/api/v1/workorders/${encodeURIComponent(o.number)}/attachments`;
  const preview = o.attachments.find((a) => a.kind === "fax_preview"), original = o.attachments.find((a) => a.kind === "fax");
  $("o-fax").replaceChildren(...(preview ? [faxFigure(`${files}/${preview.id}`, original && `${files}/${original.id}`, "fax-page")] : []));
  suggest();
  duplicates();
  if (panel.knowledge) panel.knowledge.now();
}

// A fax's page 1 (PNG made at intake) and a link to the PDF/TIFF as received.
function faxFigure(src, original, cls) {
  return el("figure", { class: cls }, el("img", { src, alt: t("fax_preview"), loading: "lazy" }),
    original ? el("figcaption", {}, el("a", { href: original, target: "_blank", rel: "noopener", text: t("fax_original") })) : null);
}

async function loadOrder(number) {
  try { fill(await api(`/api/v1/workorders/${encodeURIComponent(number)}`)); } catch (err) { fail(err); }
}

function fields() {
  const area = $("o-village").value || $("o-town").value || null;
  return { title: $("o-title").value.trim(), description: $("o-description").value.trim(),
    category: $("o-category").value || null, subject: $("o-subject").value || null, area,
    address: $("o-address").value.trim() || null, urgency: $("o-urgency").value,
    confidential: $("o-confidential").checked, contact_name: $("o-contact").value.trim() || null };
}

let suggestSeq = 0, suggestTimer = null;
function suggestSoon() {
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(suggest, 400);
}

async function suggest() {
  if (!state.order) return;
  const seq = ++suggestSeq;
  const f = fields();
  const text = [f.title, f.description, f.address].filter(Boolean).join(" ");
  assistInto($("assist"), { text, category: f.category, subject: f.subject, area: f.area },
    (code) => { $("o-lead").value = code; }, $("o-lead").value);
  try {
    const r = await api("/api/v1/routing/suggest", { method: "POST", body: {
      text: f.description, title: f.title, category: f.category, subject: f.subject, area: f.area,
      legacy_line: state.order.legacy_line } });
    if (seq !== suggestSeq) return;
    if (r.suggestion) {
      $("routing").textContent = t("routing", r.suggestion.department.name, r.reason);
      if (!$("o-lead").value) $("o-lead").value = r.suggestion.department.code;
      const assisting = new Set(r.suggestion.assisting.map((d) => d.code));
      for (const opt of $("o-assisting").options) if (assisting.has(opt.value)) opt.selected = true;
    } else {
      $("routing").textContent = t("no_routing", r.reason);
    }
  } catch (err) { $("routing").textContent = ""; }
}

function editable() {
  return Boolean(state.order) && ["draft", "registered", "reopened"].includes(state.order.status);
}

function duplicates() {
  return showDuplicates($("duplicates"), state.order, mergeInto, editable());
}

// 并单: the order being taken goes under `parent`, which answers for both.
async function mergeInto(parent) {
  if (!await save()) return;
  const o = state.order;
  try {
    await api("/api/v1/knowledge/merges", { method: "POST", body: { parent, children: [o.number] } });
    toast(t("done", t("merged"), parent), "ok");
  } catch (err) { fail(err); }
  await loadOrder(o.number);
}

async function resolveWithEntry(hit) {
  if (await save()) await act("resolve-with-knowledge", { entry_id: hit.id }, t("kb_resolve"));
}

async function act(action, body, label) {
  const o = state.order;
  try {
    const r = await api(`/api/v1/workorders/${encodeURIComponent(o.number)}/${action}`, { method: "POST",
      body: { ...body, expected_version: o.version } });
    toast(t("done", label, r.status), "ok");
    await loadOrder(o.number);
    return r;
  } catch (err) { fail(err); return null; }
}

// Only what the agent changed is sent: the update action refuses an empty correction.
function changed() {
  const o = state.order, out = {};
  const was = { title: o.title || "", description: o.description || "", category: o.category, subject: o.subject,
    area: o.area, address: o.address, urgency: o.urgency, confidential: o.confidential,
    contact_name: (o.citizen && o.citizen.name) || null };
  for (const [k, v] of Object.entries(fields())) if ((v ?? null) !== (was[k] ?? null)) out[k] = v;
  return out;
}

async function save() {
  const o = state.order;
  if (!["draft", "registered", "reopened"].includes(o.status)) return true;
  const diff = changed();
  if (!Object.keys(diff).length) return true;
  return (await act("update", diff, t("save"))) !== null;
}

$("o-save").addEventListener("click", save);
$("o-register").addEventListener("click", async () => { if (await save()) await act("register", {}, t("register")); });
$("o-dispatch").addEventListener("click", async () => {
  if (!await save()) return;
  if (state.order.status === "draft" && !await act("register", {}, t("register"))) return;
  const assisting = [...$("o-assisting").selectedOptions].map((x) => x.value).filter((x) => x !== $("o-lead").value);
  await act("dispatch", { lead: $("o-lead").value, assisting, reason: $("routing").textContent }, t("dispatch"));
});
$("o-resolve").addEventListener("click", async () => {
  if (await save()) await act("resolve", { answer: $("o-answer").value.trim() }, t("resolve"));
});
$("o-invalid").addEventListener("click", () => act("invalidate", { reason: $("o-invalid-reason").value.trim() }, t("invalid")));

// ------------------------------------------------------------------ the inbox and the callbacks
const chName = (c) => t(c === "phone" ? "phone_ch" : c);

async function loadInbox() {
  let box;
  try { box = await api("/api/v1/desk/inbox"); } catch (err) { return fail(err); }
  $("inbox-list").tBodies[0].replaceChildren(...(box.items.length ? box.items.map((i) => {
    const taken = i.claimed_by && !i.mine;
    return el("tr", { dataset: { number: i.number } }, el("td", { text: chName(i.channel) }),
      el("td", { class: "timer", text: duration(i.waiting_seconds) }), el("td", { text: i.number }),
      el("td", {}, i.title || i.text, i.fax ? faxFigure(i.fax.preview, i.fax.original, "fax-thumb") : null),
      el("td", { text: i.claimed_by || "—" }),
      el("td", {}, el("button", { type: "button", class: "claim", text: t(i.mine ? "continue" : "claim"), disabled: taken,
        onclick: () => claim(i.number) }),
      i.mine ? el("button", { type: "button", class: "release", text: t("release"), onclick: () => release(i.number) }) : null));
  }) : [el("tr", {}, el("td", { text: t("none") }))]));
}

async function claim(number) {
  try {
    await api(`/api/v1/desk/inbox/${encodeURIComponent(number)}/claim`, { method: "POST" });
    await loadOrder(number);
    $("order").scrollIntoView();
    $("o-title").focus();
  } catch (err) { fail(err); }
  loadInbox();
}

async function release(number) {
  try { await api(`/api/v1/desk/inbox/${encodeURIComponent(number)}/release`, { method: "POST" }); } catch (err) { fail(err); }
  loadInbox();
}

async function loadCallbacks() {
  let tasks;
  try { tasks = await api("/api/v1/telephony/callbacks"); } catch (err) { return fail(err); }
  $("callback-list").tBodies[0].replaceChildren(...(tasks.length ? tasks.map((x) => el("tr", { dataset: { task: String(x.id) } },
    el("td", { text: x.phone }), el("td", { text: t(x.reason) }), el("td", { class: "timer", text: duration(since(x.last_call_at)) }),
    el("td", { text: `${x.attempts} / ${x.missed_calls}` }),
    el("td", {}, el("button", { type: "button", class: "call-back", text: t("call_back"), disabled: x.status !== "open",
      onclick: async () => {
        try {
          await api(`/api/v1/telephony/callbacks/${x.id}/call`, { method: "POST", body: {} });
          toast(t("dialling", x.phone), "ok");
        } catch (err) { fail(err); }
        loadCallbacks();
      } })))) : [el("tr", {}, el("td", { text: t("none") }))]));
}

let listsTimer = null;
function listsSoon() {  // a burst of events is one reload
  if (!listsTimer) {
    listsTimer = setTimeout(() => {
      listsTimer = null;
      loadInbox();
      loadCallbacks();
      if (panel.followup) panel.followup.load();
    }, 300);
  }
}

// ------------------------------------------------------------------ panels other modules fill
const panel = { knowledge: null, followup: null };

function panels() {
  const root = (id) => document.querySelector(`[data-panel="${id}"]`);
  for (const p of state.session.panels) {
    if (p.id === "knowledge") {
      panel.knowledge = knowledgePanel(root("knowledge"), { editable,
        text: () => [$("o-title").value, $("o-description").value].join(" ").trim(), resolve: resolveWithEntry });
    } else if (p.id === "followup") {
      panel.followup = followupPanel(root("followup"), { satisfaction: state.ref.satisfaction, toast, fail });
    }
  }
  for (const section of document.querySelectorAll("[data-panel]")) {  // a module not installed
    if (!panel[section.dataset.panel]) section.querySelector(".panel-body").textContent = t("panel_waiting");
  }
}

// ------------------------------------------------------------------ live events
function mine(m) {
  return state.me.extension && m.agent_extension === state.me.extension;
}

function onLive(m) {
  if (m.topic === "agent" && m.extension === state.me.extension) {
    seeAgent(m);
    // The tracker says ringing right after the call it rings for: that call is ours.
    if (m.state === "ringing" && state.lastRinging) screenPop(state.lastRinging);
  } else if (m.topic === "call") {
    if (m.event === "ringing") state.lastRinging = m;
    else if (m.event === "connected" && mine(m)) {
      state.call = { linkedid: m.linkedid, answeredAt: Date.now() };
      screenPop(m);
      if (!state.phone || !state.phone.inCall) showCall("talking");
    } else if (m.event === "draft_opened" && mine(m) && m.number) {
      loadOrder(m.number);
    } else if ((m.event === "ended" || m.event === "transferred") && state.call && m.linkedid === state.call.linkedid) {
      // A transferred call goes on with the department: the agent's part of it is over.
      state.call = null;
      showCall("ended");
      startWrapUp();
    } else if (m.event === "recorded" && state.order && state.order.call_id === m.linkedid) {
      loadOrder(state.order.number);  // the recording is attached now
    }
  } else if (m.topic === "desk" || m.topic === "workorder" || m.topic === "callback") {
    listsSoon();
  }
}

async function refreshAgent() {
  try {
    const r = await agentsNow();
    const me = r.agents.find((a) => a.extension === state.me.extension);
    if (me) seeAgent(me);
  } catch (err) { fail(err); }
}

async function main() {
  const [session, ref] = await Promise.all([api("/api/v1/desk/session"), api("/api/v1/reference")]);
  state.session = session;
  state.ref = ref;
  state.me = session.user;
  $("who").textContent = `${state.me.name}${state.me.extension ? ` · ${state.me.extension}` : ""}`;
  options($("pause-reason"), session.pause_reasons, { blank: false, value: "name", label: "label" });
  pickers();
  panels();
  showAgent();
  showCall("idle");
  setInterval(listsSoon, 30000);  // the waiting times grow without an event
  live(onLive, { onOpen: () => { refreshAgent(); listsSoon(); }, onState: (up) => {
    $("live-status").dataset.state = up ? "on" : "off";
    $("live-status").textContent = t(up ? "live_on" : "live_off");
  } });
  await startSoftphone();
}

main().catch(fail);
