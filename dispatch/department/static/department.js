// 承办单位工作台 — the department page. Plain JavaScript, no framework, no CDN.
// It only calls the department API with the X-Api-Key header; the key stays in this
// tab's sessionStorage. Text from orders is always set with textContent (never HTML).
"use strict";

const KEY_STORE = "hotline.department.key";
const LANG_STORE = "hotline.lang";

const T = {
  zh: {
    title: "承办单位工作台", logout: "退出", login_title: "部门登录", api_key: "API 密钥", login: "登录",
    login_help: "请输入本部门的 API 密钥（由 12345 热线管理员发放）。密钥只保存在本浏览器标签页中，关闭即清除。",
    tab_todo: "待签收", tab_doing: "办理中", tab_overdue: "已超期", tab_all: "全部", tab_notices: "催办通知",
    col_number: "工单编号", col_title: "标题", col_status: "状态", col_deadline: "办理时限", more: "加载更多",
    empty: "暂无工单", attachments: "附件", history: "办理记录", sign: "签收", progress: "反馈进展",
    submit_progress: "提交进展", reply: "办结回复", reply_files: "附件（可选：PDF、图片、Word、Excel）",
    submit_reply: "提交办结回复", return: "退单（非本部门职责）", submit_return: "退单",
    extension: "申请延期（工作日）", extension_reason: "延期理由", submit_extension: "申请延期",
    sub_dispatch: "下派至村（社区）", submit_sub: "下派", overdue: "超期", sign_by: "签收时限",
    reply_by: "办结时限", category: "类型", area: "区域", address: "地址", citizen: "诉求人",
    confidential: "保密（举报人信息不提供）", role: "承办角色", lead: "主办", assist: "协办",
    done: "已完成：", bad_key: "API 密钥无效，请重新输入", uploading: "正在上传附件…", switch: "English",
    no_notices: "暂无催办通知", urgency: "紧急程度", download: "下载",
  },
  en: {
    title: "Department desk", logout: "Sign out", login_title: "Department sign-in", api_key: "API key",
    login: "Sign in",
    login_help: "Enter your department's API key (issued by the 12345 hotline). It is kept in this browser tab only and forgotten when the tab closes.",
    tab_todo: "To sign for", tab_doing: "In progress", tab_overdue: "Overdue", tab_all: "All",
    tab_notices: "Reminders", col_number: "Number", col_title: "Title", col_status: "Status",
    col_deadline: "Deadline", more: "Load more", empty: "No work orders", attachments: "Files",
    history: "History", sign: "Sign for", progress: "Progress note", submit_progress: "Add note",
    reply: "Reply with the result", reply_files: "Files (optional: PDF, images, Word, Excel)",
    submit_reply: "Send reply", return: "Return (not our responsibility)", submit_return: "Return",
    extension: "Request an extension (working days)", extension_reason: "Reason", submit_extension: "Request",
    sub_dispatch: "Sub-dispatch to a village", submit_sub: "Sub-dispatch", overdue: "overdue",
    sign_by: "Sign for by", reply_by: "Reply by", category: "Category", area: "Area", address: "Address",
    citizen: "Citizen", confidential: "Confidential (reporter withheld)", role: "Role", lead: "Lead",
    assist: "Assisting", done: "Done: ", bad_key: "Invalid API key, please try again",
    uploading: "Uploading files…", switch: "中文", no_notices: "No reminders", urgency: "Urgency",
    download: "Download",
  },
};

const state = { lang: "zh", key: null, me: null, tab: "todo", cursor: null, current: null };

function t(name) { return (T[state.lang] || T.zh)[name] || name; }
function $(sel) { return document.querySelector(sel); }
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function fmt(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString(state.lang === "en" ? "en-GB" : "zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });
}

function say(text, error) {
  const m = $("#message");
  m.textContent = text;
  m.className = error ? "error" : "";
  m.hidden = false;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { m.hidden = true; }, error ? 8000 : 3000);
}

async function api(method, path, body, raw) {
  const headers = { "X-Api-Key": state.key, "Accept-Language": state.lang === "en" ? "en" : "zh-CN" };
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const resp = await fetch(path, { method, headers, body: payload });
  if (resp.status === 401) { logout(); say(t("bad_key"), true); throw new Error("unauthorized"); }
  if (raw) {
    if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    return resp;
  }
  const data = resp.status === 204 ? null : await resp.json();
  if (!resp.ok) {
    const err = new Error((data && (data.detail || data.title)) || `HTTP ${resp.status}`);
    err.problem = data;
    throw err;
  }
  return data;
}

function translate() {
  document.documentElement.lang = state.lang === "en" ? "en" : "zh-CN";
  document.querySelectorAll("[data-t]").forEach((e) => { e.textContent = t(e.dataset.t); });
  $("#lang-switch").textContent = t("switch");
}

// ------------------------------------------------------------------ sign-in
async function login(key) {
  state.key = key;
  state.me = await api("GET", "/api/v1/department/me");
  sessionStorage.setItem(KEY_STORE, key);
  $("#login-view").hidden = true;
  $("#work-view").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = state.me.name;
  const sub = $("#sub-to");
  sub.replaceChildren(...state.me.children.map((c) => { const o = el("option", c.name); o.value = c.code; return o; }));
  await loadList(true);
}

function logout() {
  sessionStorage.removeItem(KEY_STORE);
  state.key = null;
  state.me = null;
  $("#work-view").hidden = true;
  $("#logout").hidden = true;
  $("#who").textContent = "";
  $("#login-view").hidden = false;
}

// ------------------------------------------------------------------ list
const FILTERS = {
  todo: "status=dispatched", doing: "status=signed,extension_requested", overdue: "overdue=true", all: "",
};

async function loadList(reset) {
  if (reset) { state.cursor = null; $("#orders tbody").replaceChildren(); }
  const notices = state.tab === "notices";
  $("#orders").hidden = notices;
  $("#notices").hidden = !notices;
  if (notices) return loadNotices(reset);
  const q = [FILTERS[state.tab], state.cursor ? `cursor=${encodeURIComponent(state.cursor)}` : ""].filter(Boolean);
  const page = await api("GET", `/api/v1/department/orders${q.length ? "?" + q.join("&") : ""}`);
  const body = $("#orders tbody");
  for (const o of page.items) {
    const tr = el("tr");
    tr.dataset.number = o.number;
    tr.append(el("td", o.number), el("td", o.title));
    const st = el("td", o.status_name);
    if (o.overdue) st.append(" ", el("span", t("overdue"), "badge overdue"));
    tr.append(st, el("td", fmt(o.status === "dispatched" ? o.sign_by : o.reply_by)));
    tr.addEventListener("click", () => openOrder(o.number));
    body.append(tr);
  }
  state.cursor = page.next_cursor;
  $("#more").hidden = !page.next_cursor;
  $("#empty").hidden = body.children.length > 0;
}

async function loadNotices(reset) {
  const list = $("#notices");
  if (reset) list.replaceChildren();
  const q = state.cursor ? `?cursor=${encodeURIComponent(state.cursor)}` : "";
  const page = await api("GET", `/api/v1/department/notices${q}`);
  for (const n of page.items) {
    const li = el("li");
    li.append(el("span", n.name, `badge level-${n.level}`), " ", el("strong", n.number), " ", el("span", n.title),
      " · ", el("span", `${t("col_deadline")} ${fmt(n.deadline)}`));
    li.addEventListener("click", () => openOrder(n.number));
    list.append(li);
  }
  state.cursor = page.next_cursor;
  $("#more").hidden = !page.next_cursor;
  $("#empty").hidden = list.children.length > 0;
  if (!list.children.length) $("#empty").textContent = t("no_notices");
}

// ------------------------------------------------------------------ detail
async function openOrder(number) {
  const o = await api("GET", `/api/v1/department/orders/${encodeURIComponent(number)}`);
  state.current = o;
  document.querySelectorAll("#orders tbody tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.number === number));
  $("#detail-pane").hidden = false;
  $("#d-title").textContent = `${o.number} · ${o.title}`;
  const mine = o.assignments.filter((a) => a.department === state.me.code && ["dispatched", "signed"].includes(a.status)).pop();
  const facts = [
    [t("col_status"), o.status_name + (o.overdue ? ` (${t("overdue")})` : "")],
    [t("category"), o.category], [t("urgency"), o.urgency], [t("area"), o.area], [t("address"), o.address],
    [t("citizen"), o.citizen ? [o.citizen.name, o.citizen.phone].filter(Boolean).join(" ") : t("confidential")],
    [t("role"), mine ? t(mine.role) : "—"],
    [t("sign_by"), fmt(mine ? mine.sign_by : o.sign_by)], [t("reply_by"), fmt(mine ? mine.reply_by : o.reply_by)],
  ];
  $("#d-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", k), el("dd", v || "—")]));
  $("#d-description").textContent = o.description;
  $("#d-attachments").replaceChildren(...o.attachments.map((a) => {
    const li = el("li", `${a.filename} (${Math.ceil(a.size / 1024)} KB) `);
    const b = el("button", t("download"), "link");
    b.type = "button";
    b.addEventListener("click", () => download(o.number, a));
    li.append(b);
    return li;
  }));
  $("#d-events").replaceChildren(...o.events.map((e) => {
    const note = e.data && (e.data.note || e.data.result || e.data.reason || "");
    return el("li", `${fmt(e.at)} · ${e.actor_name || e.actor_kind} · ${e.kind}${note ? " · " + note : ""}`);
  }));
  const status = mine ? mine.status : null;
  $("#f-sign").hidden = status !== "dispatched";
  $("#f-progress").hidden = !status;
  $("#f-reply").hidden = status !== "signed";
  $("#f-return").hidden = !status;
  $("#f-extension").hidden = !(status === "signed" && mine.role === "lead" && o.status === "signed");
  $("#f-sub").hidden = !(status === "signed" && state.me.children.length > 0);
}

async function download(number, a) {
  const resp = await api("GET", `/api/v1/department/orders/${encodeURIComponent(number)}/attachments/${a.id}`, undefined, true);
  const url = URL.createObjectURL(await resp.blob());
  const link = el("a");
  link.href = url;
  link.download = a.filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function act(path, body, label) {
  const o = state.current;
  const out = await api("POST", `/api/v1/department/orders/${encodeURIComponent(o.number)}/${path}`,
    { ...body, expected_version: o.version });
  say(t("done") + label + " · " + out.status);
  await openOrder(o.number);
  await loadList(true);
}

function wire(formId, build, label) {
  $(formId).addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const body = await build(new FormData(form));
      await act(form.dataset.path, body, t(label));
      form.reset();
    } catch (err) {
      if (err.message !== "unauthorized") say(err.message, true);
    } finally {
      button.disabled = false;
    }
  });
}

async function uploadFiles(files) {
  const ids = [];
  for (const file of files) {
    if (!file || !file.name) continue;
    say(t("uploading"));
    const fd = new FormData();
    fd.append("file", file, file.name);
    const out = await api("POST", `/api/v1/department/orders/${encodeURIComponent(state.current.number)}/attachments`, fd);
    ids.push(out.id);
  }
  return ids;
}

// ------------------------------------------------------------------ start
document.addEventListener("DOMContentLoaded", () => {
  // The server already chose (?lang=, the language cookie, the browser's language): follow it.
  const wanted = new URLSearchParams(location.search).get("lang") || localStorage.getItem(LANG_STORE)
    || (document.documentElement.lang.startsWith("en") ? "en" : "zh");
  state.lang = wanted === "en" ? "en" : "zh";
  translate();
  $("#lang-switch").addEventListener("click", () => {
    const next = state.lang === "en" ? "zh" : "en";
    localStorage.setItem(LANG_STORE, next);
    document.cookie = `hotline_lang=${next}; path=/; SameSite=Lax`;
    const url = new URL(location.href);
    url.searchParams.delete("lang");
    location.replace(url.toString());  // the key survives in sessionStorage; the page comes back signed in
  });
  $("#logout").addEventListener("click", logout);
  $("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try { await login($("#api-key").value.trim()); $("#api-key").value = ""; }
    catch (err) { if (err.message !== "unauthorized") say(err.message, true); }
  });
  $("#tabs").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-tab]");
    if (!b) return;
    document.querySelectorAll("#tabs button").forEach((x) => x.classList.toggle("active", x === b));
    state.tab = b.dataset.tab;
    await loadList(true);
  });
  $("#more").addEventListener("click", () => loadList(false));
  const forms = { "#f-sign": "sign", "#f-progress": "progress", "#f-reply": "reply", "#f-return": "return",
    "#f-extension": "request-extension", "#f-sub": "sub-dispatch" };
  for (const [id, path] of Object.entries(forms)) $(id).dataset.path = path;
  wire("#f-sign", async () => ({}), "sign");
  wire("#f-progress", async (fd) => ({ note: fd.get("note") }), "progress");
  wire("#f-reply", async (fd) => ({ result: fd.get("result"), attachments: await uploadFiles(fd.getAll("files")) }), "reply");
  wire("#f-return", async (fd) => ({ reason: fd.get("reason") }), "return");
  wire("#f-extension", async (fd) => ({ working_days: Number(fd.get("working_days")), reason: fd.get("reason") }), "extension");
  wire("#f-sub", async (fd) => ({ to: fd.get("to"), note: fd.get("note") || "" }), "sub_dispatch");
  const saved = sessionStorage.getItem(KEY_STORE);
  if (saved) login(saved).catch(() => logout());
  else $("#login-view").hidden = false;
});
