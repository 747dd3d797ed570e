// 知识库管理: search and list the entries, write one (a supervisor's save is a new, approved
// version), its version history, retiring with a reason, CSV/XLSX import and export. All of
// it is the API's (/api/v1/knowledge/...) under the session cookie; agents read only.
import { ApiError, api, el, lang, switchLanguage, toast, translator } from "/desk/static/common.js";

const t = translator({
  switch: ["English", "中文"], wallboard: ["监控大屏", "Wallboard"], reports: ["统计报表", "Reports"],
  search: ["检索", "Search"], search_go: ["检索", "Search"], show_all: ["全部条目", "All entries"],
  status: ["状态", "Status"], active: ["在用", "Active"], retired: ["已下线", "Retired"], all: ["全部", "All"],
  export_csv: ["导出 CSV", "Export CSV"], export_xlsx: ["导出 Excel", "Export XLSX"],
  entries: ["知识条目", "Entries"], new: ["新建条目", "New entry"], more: ["更多", "More"],
  key: ["编号", "Key"], question: ["问题", "Question"], answer: ["答案（口径）", "Answer"],
  policy_source: ["政策依据", "Policy source"], department: ["负责部门", "Department"],
  valid_from: ["生效日期", "Valid from"], valid_to: ["失效日期", "Valid to"], tags: ["标签", "Tags"],
  tags_hint: ["多个标签用逗号分隔", "Separate tags with commas"], public: ["在网上服务大厅公开", "Public on the portal FAQ"],
  version: ["版本", "Version"], state: ["状态", "Status"], none: ["（不指定）", "(none)"],
  entry_new: ["新建知识条目", "New entry"], entry_edit: ["编辑 {0}", "Edit {0}"], entry_view: ["条目 {0}", "Entry {0}"],
  save: ["保存（审核通过）", "Save (approves it)"], cancel: ["取消", "Cancel"],
  approved_by: ["审核人", "Approved by"], approved_at: ["审核时间", "Approved at"], cited: ["被引用", "Cited"],
  retire_reason: ["下线原因", "Reason to retire"], retire: ["下线", "Retire"],
  history: ["修订记录", "Version history"], change: ["变更", "Change"], approver: ["修改人/审核人", "By / approver"],
  when: ["时间", "When"], note: ["说明", "Note"],
  created: ["新建", "created"], updated: ["修改", "updated"], imported: ["导入", "imported"],
  import: ["导入 CSV / Excel", "Import CSV / XLSX"], import_file: ["文件", "File"], import_go: ["导入", "Import"],
  import_hint: ["表头：编号、问题、答案、政策依据、部门、生效日期、失效日期、标签、公开；按编号新建或更新，有一行不合规则整份不写入。",
    "Header: 编号, 问题, 答案, 政策依据, 部门, 生效日期, 失效日期, 标签, 公开; matched on 编号; one bad row and nothing is written."],
  import_ok: ["导入完成：新建 {0} 条，更新 {1} 条，未变 {2} 条。", "Imported: {0} created, {1} updated, {2} unchanged."],
  import_failed: ["导入失败，未写入任何条目：", "Import failed, nothing was written:"],
  import_type: ["请选择 .csv 或 .xlsx 文件", "Choose a .csv or .xlsx file"],
  saved: ["已保存：{0} 第 {1} 版，审核人 {2}", "Saved: {0} version {1}, approved by {2}"],
  unchanged: ["内容未变，未生成新版本", "Nothing changed: no new version"],
  retired_ok: ["已下线：{0}", "Retired: {0}"], need_reason: ["请填写下线原因", "Give a reason to retire it"],
  found: ["检索“{0}”：{1} 条", "“{0}”: {1} found"], listed: ["共显示 {0} 条", "{0} shown"],
  nothing: ["没有条目", "No entries"], loading: ["正在加载…", "Loading…"],
  bad_dates: ["失效日期早于生效日期", "Valid to is before valid from"],
});
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const $ = (id) => document.getElementById(id);
const canWrite = document.body.dataset.canWrite === "true";
const state = { current: null, cursor: null, departments: new Map() };

for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
for (const node of document.querySelectorAll("[data-t-placeholder]")) node.placeholder = t(node.dataset.tPlaceholder);
$("lang-switch").textContent = t("switch");
$("lang-switch").addEventListener("click", switchLanguage);
for (const code of ["active", "retired", ""]) $("status").append(new Option(t(code || "all"), code));
if (!canWrite) $("entry-fields").disabled = true;

const when = (iso) => (iso ? new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "zh-CN", { hour12: false }) : "");
const fail = (err) => toast(err instanceof ApiError && err.status === 401 ? "" : err.message, "error");

// ------------------------------------------------------------------ the list

function row(e) {
  const open = el("button", { type: "button", class: "link", text: e.question, onclick: () => openEntry(e.id) });
  return el("tr", { dataset: { id: String(e.id), key: e.key },
    class: [e.status === "retired" ? "retired" : "", state.current && state.current.id === e.id ? "current" : ""]
      .filter(Boolean).join(" ") || undefined },
  el("td", { text: e.key }), el("td", {}, open), el("td", { text: e.department_name || "" }),
  el("td", { text: String(e.version) }), el("td", { text: e.status ? t(e.status) : t("active") }));
}

function show(items, note, append = false) {
  const body = $("entries").tBodies[0];
  if (!append) body.replaceChildren();
  body.append(...items.map(row));
  if (!body.rows.length) body.append(el("tr", {}, el("td", { colspan: "5", class: "hint", text: t("nothing") })));
  $("list-note").textContent = note(body.querySelectorAll("tr[data-id]").length);
}

async function list(append = false) {
  try {
    const page = await api("/api/v1/knowledge/entries", { query: { status: $("status").value,
      cursor: append ? state.cursor : null, limit: 50 } });
    state.cursor = page.next_cursor;
    $("more").hidden = !page.next_cursor;
    show(page.items, (n) => t("listed", n), append);
    document.body.dataset.ready = "true";
  } catch (err) { fail(err); }
}

async function search(q) {
  try {
    const hits = await api("/api/v1/knowledge/search", { query: { q } });
    $("more").hidden = true;
    show(hits, (n) => t("found", q, n));
  } catch (err) { fail(err); }
}

function refresh() {
  const q = $("q").value.trim();
  return q ? search(q) : list();
}

// ------------------------------------------------------------------ one entry

function fill(e) {
  $("f-question").value = e ? e.question : "";
  $("f-answer").value = e ? e.answer : "";
  $("f-policy").value = e ? e.policy_source : "";
  $("f-department").value = e && e.department ? e.department : "";
  $("f-from").value = e && e.valid_from ? e.valid_from : "";
  $("f-to").value = e && e.valid_to ? e.valid_to : "";
  $("f-tags").value = e ? e.tags.join("，") : "";
  $("f-public").checked = Boolean(e && e.public);
}

function meta(e) {
  const facts = [[t("key"), e.key], [t("version"), String(e.version)], [t("state"), t(e.status)],
    [t("approved_by"), e.approved_by], [t("approved_at"), when(e.approved_at)], [t("cited"), String(e.cited)]];
  $("entry-meta").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  $("entry-meta").hidden = false;
}

function history(versions) {
  $("versions").tBodies[0].replaceChildren(...versions.slice().reverse().map((v) => {
    const by = v.change === "retired" ? v.changed_by : (v.data.approved_by || v.changed_by);
    return el("tr", { dataset: { version: String(v.version), change: v.change } },
      el("td", { text: String(v.version) }), el("td", { text: t(v.change) }), el("td", { text: by }),
      el("td", { text: when(v.changed_at) }), el("td", { text: v.data.reason || "" }));
  }));
  $("history").hidden = false;
}

function current(e) {
  state.current = e;
  for (const tr of $("entries").tBodies[0].rows) tr.classList.toggle("current", Boolean(e) && tr.dataset.id === String(e.id));
  fill(e);
  if (!e) {
    $("entry-h").textContent = t("entry_new");
    $("entry-meta").hidden = true;
    $("history").hidden = true;
    $("retire-form").hidden = true;
    return;
  }
  $("entry-h").textContent = t(canWrite ? "entry_edit" : "entry_view", e.key);
  meta(e);
  $("retire-form").hidden = e.status === "retired";
  $("retire-reason").value = "";
}

async function openEntry(id) {
  try {
    const [e, versions] = await Promise.all([api(`/api/v1/knowledge/entries/${id}`),
      api(`/api/v1/knowledge/entries/${id}/versions`)]);
    current(e);
    history(versions);
    toast("");
    (canWrite ? $("f-question") : $("entry-h")).focus();
  } catch (err) { fail(err); }
}

function body() {
  return {
    question: $("f-question").value, answer: $("f-answer").value, policy_source: $("f-policy").value.trim(),
    department: $("f-department").value || null, valid_from: $("f-from").value || null,
    valid_to: $("f-to").value || null, public: $("f-public").checked,
    tags: $("f-tags").value.split(/[,，;；、]/).map((x) => x.trim()).filter(Boolean),
  };
}

async function save() {
  const b = body();
  if (b.valid_from && b.valid_to && b.valid_to < b.valid_from) { toast(t("bad_dates"), "error"); return; }
  const before = state.current;
  try {
    const e = before
      ? await api(`/api/v1/knowledge/entries/${before.id}`, { method: "PUT", body: { ...b, expected_version: before.version } })
      : await api("/api/v1/knowledge/entries", { method: "POST", body: b });
    await refresh();
    await openEntry(e.id);
    toast(before && before.version === e.version ? t("unchanged") : t("saved", e.key, e.version, e.approved_by), "ok");
  } catch (err) { fail(err); }
}

async function retire() {
  const e = state.current, reason = $("retire-reason").value.trim();
  if (!e) return;
  if (!reason) { toast(t("need_reason"), "error"); $("retire-reason").focus(); return; }
  try {
    await api(`/api/v1/knowledge/entries/${e.id}/retire`, { method: "POST", body: { expected_version: e.version, reason } });
    await refresh();
    await openEntry(e.id);
    toast(t("retired_ok", e.key), "ok");
  } catch (err) { fail(err); }
}

// ------------------------------------------------------------------ import

function importType(file) {
  const name = file.name.toLowerCase();
  if (name.endsWith(".xlsx")) return XLSX;
  if (name.endsWith(".csv")) return "text/csv";
  return file.type === XLSX || file.type === "text/csv" ? file.type : null;
}

function importResult(kind, title, lines = []) {
  const box = $("import-result");
  box.className = kind;
  box.replaceChildren(el("p", { text: title }));
  if (lines.length) box.append(el("ul", {}, lines.map((x) => el("li", { text: x }))));
  box.hidden = false;
}

async function importFile() {
  const file = $("import-file").files[0];
  if (!file) return;
  const type = importType(file);
  if (!type) { importResult("error", t("import_type")); return; }
  toast("");
  try {
    // The file is the body, with its own content type: not the JSON helper's.
    const me = await api("/api/v1/auth/me");
    const url = new URL("/api/v1/knowledge/import", location.origin);
    if (lang === "en") url.searchParams.set("lang", "en");
    const resp = await fetch(url, { method: "POST", body: file, credentials: "same-origin",
      headers: { "Content-Type": type, Accept: "application/json", "X-CSRF-Token": me.csrf_token } });
    const text = await resp.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (!resp.ok) {
      const rows = data && Array.isArray(data.errors) ? data.errors.map((x) => x.msg || String(x)) : [];
      importResult("error", t("import_failed"), rows.length ? rows : [(data && data.detail) || `HTTP ${resp.status}`]);
      return;
    }
    importResult("ok", t("import_ok", data.created, data.updated, data.unchanged));
    $("import-file").value = "";
    await refresh();
  } catch (err) { importResult("error", t("import_failed"), [err.message]); }
}

// ------------------------------------------------------------------ wiring

async function departments() {
  $("f-department").append(new Option(t("none"), ""));
  try {
    const ref = await api("/api/v1/reference");
    for (const d of ref.departments) {
      state.departments.set(d.code, d.name);
      $("f-department").append(new Option(`${d.name}（${d.code}）`, d.code));
    }
  } catch (err) { fail(err); }
}

$("search-form").addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
$("show-all").addEventListener("click", () => { $("q").value = ""; list(); });
$("status").addEventListener("change", () => { $("q").value = ""; list(); });
$("more").addEventListener("click", () => list(true));
$("new").addEventListener("click", () => { current(null); $("f-question").focus(); });
$("cancel").addEventListener("click", () => (state.current ? openEntry(state.current.id) : current(null)));
$("entry-form").addEventListener("submit", (e) => { e.preventDefault(); if (canWrite) save(); });
$("retire-form").addEventListener("submit", (e) => { e.preventDefault(); retire(); });
$("import-form").addEventListener("submit", (e) => { e.preventDefault(); importFile(); });

await departments();
current(null);
await list();
