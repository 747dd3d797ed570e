// 系统管理: users and department API keys, over /api/v1/admin/… (the same use cases as
// `hotline user|apikey`). A key is shown once, when it is issued or rotated.
import { api, el, switchLanguage, toast, translator } from "./common.js";

const t = translator({
  switch: ["English", "中文"], users: ["用户", "Users"], username: ["用户名", "Username"], display_name: ["姓名", "Name"],
  role: ["角色", "Role"], extension: ["分机号", "Extension"], password: ["初始密码", "Password"], add: ["新增用户", "Add user"],
  status: ["状态", "Status"], new_password: ["重置密码", "New password"], active: ["启用", "Active"], inactive: ["已停用", "Disabled"],
  disable: ["停用", "Disable"], enable: ["启用", "Enable"], reset: ["重置", "Reset"], save_ext: ["保存分机", "Save extension"],
  agent: ["话务员", "Agent"], supervisor: ["班长/督查", "Supervisor"], admin: ["管理员", "Admin"],
  keys: ["部门 API 密钥", "Department API keys"], department: ["部门", "Department"], label: ["备注", "Label"],
  issue: ["新建密钥", "Issue a key"], prefix: ["密钥前缀", "Prefix"], created: ["创建时间", "Created"],
  revoked: ["已吊销", "Revoked"], valid: ["有效", "Valid"], revoke: ["吊销", "Revoke"], rotate: ["轮换", "Rotate"],
  shown_once: ["新密钥（只显示这一次，请立即交给部门）：{0}", "The new key (shown this once only): {0}"],
  done: ["已完成：{0}", "Done: {0}"],
});
const $ = (id) => document.getElementById(id);
document.querySelectorAll("[data-t]").forEach((n) => { n.textContent = t(n.dataset.t); });
$("lang-switch").textContent = t("switch");
$("lang-switch").addEventListener("click", switchLanguage);
const ROLES = ["agent", "supervisor", "admin"];
$("u-role").replaceChildren(...ROLES.map((r) => el("option", { value: r, text: t(r) })));

async function run(label, fn) {
  try { await fn(); toast(t("done", label), "ok"); } catch (err) { toast(err.message, "error"); }
  await Promise.all([loadUsers(), loadKeys()]);
}

// A reload after one row's action must not throw away what the administrator is typing in
// another row (a new password half entered): those values and the focus are carried over.
function typedPasswords() {
  const rows = [...$("users").tBodies[0].rows];
  return new Map(rows.map((tr) => [tr.dataset.username, tr.querySelector("input.pw")?.value || ""]).filter(([, v]) => v));
}

async function loadUsers() {
  const { items } = await api("/api/v1/admin/users");
  const typed = typedPasswords(); // read after the fetch: the latest keystrokes are kept
  const focus = document.activeElement;
  const focusRow = focus?.closest?.("tr[data-username]")?.dataset.username;
  const focusClass = focus?.classList?.[0];
  $("users").tBodies[0].replaceChildren(...items.map((u) => {
    const path = (action) => `/api/v1/admin/users/${u.id}/${action}`;
    const role = el("select", { "aria-label": t("role"), onchange: (e) => run(t("role"),
      () => api(path("role"), { method: "POST", body: { role: e.target.value } })) },
      ...ROLES.map((r) => el("option", { value: r, text: t(r), selected: r === u.role })));
    const ext = el("input", { value: u.extension || "", size: 6, "aria-label": t("extension"), class: "ext" });
    const pw = el("input", { type: "password", minlength: 8, size: 10, "aria-label": t("new_password"), class: "pw",
      autocomplete: "new-password", value: typed.get(u.username) || "" });
    return el("tr", { dataset: { username: u.username, active: String(u.active) } },
      el("td", { text: u.username }), el("td", { text: u.display_name }), el("td", {}, role),
      el("td", {}, ext, el("button", { type: "button", class: "save-ext", text: t("save_ext"),
        onclick: () => run(t("save_ext"), () => api(path("extension"), { method: "POST", body: { extension: ext.value.trim() || null } })) })),
      el("td", { text: u.active ? t("active") : t("inactive") }),
      el("td", {}, pw, el("button", { type: "button", class: "reset", text: t("reset"),
        onclick: () => run(t("reset"), async () => {
          await api(path("reset-password"), { method: "POST", body: { password: pw.value } });
          pw.value = ""; // set: not carried into the reloaded row
        }) })),
      el("td", {}, el("button", { type: "button", class: u.active ? "disable danger" : "enable", text: t(u.active ? "disable" : "enable"),
        onclick: () => run(t(u.active ? "disable" : "enable"), () => api(path(u.active ? "disable" : "enable"), { method: "POST" })) })));
  }));
  if (focusRow && focusClass) {
    $("users").querySelector(`tr[data-username="${CSS.escape(focusRow)}"] .${CSS.escape(focusClass)}`)?.focus();
  }
}

function showKey(k) {
  $("new-key").textContent = t("shown_once", k.key);
  $("new-key").hidden = false;
}

async function loadKeys() {
  const { items } = await api("/api/v1/admin/apikeys");
  $("keys").tBodies[0].replaceChildren(...items.map((k) => el("tr", { dataset: { prefix: k.prefix, revoked: String(!!k.revoked_at) } },
    el("td", {}, el("code", { text: k.prefix })), el("td", { text: k.department }), el("td", { text: k.label }),
    el("td", { text: new Date(k.created_at).toLocaleString() }), el("td", { text: k.revoked_at ? t("revoked") : t("valid") }),
    el("td", {}, ...(k.revoked_at ? [] : [
      el("button", { type: "button", class: "rotate", text: t("rotate"), onclick: () => run(t("rotate"),
        async () => showKey(await api(`/api/v1/admin/apikeys/${k.id}/rotate`, { method: "POST" }))) }),
      el("button", { type: "button", class: "revoke danger", text: t("revoke"), onclick: () => run(t("revoke"),
        () => api(`/api/v1/admin/apikeys/${k.id}/revoke`, { method: "POST" })) })])))));
}

$("add-user").addEventListener("submit", (e) => {
  e.preventDefault();
  run(t("add"), () => api("/api/v1/admin/users", { method: "POST", body: {
    username: $("u-username").value.trim(), display_name: $("u-name").value.trim(), role: $("u-role").value,
    extension: $("u-extension").value.trim() || null, password: $("u-password").value } }));
});
$("add-key").addEventListener("submit", (e) => {
  e.preventDefault();
  run(t("issue"), async () => showKey(await api("/api/v1/admin/apikeys", { method: "POST", body: {
    department: $("k-department").value, label: $("k-label").value.trim() } })));
});

(async () => {
  const ref = await api("/api/v1/reference");
  $("k-department").replaceChildren(...ref.departments.map((d) => el("option", { value: d.code, text: `${d.name} (${d.code})` })));
  await Promise.all([loadUsers(), loadKeys()]);
})().catch((err) => toast(err.message, "error"));
