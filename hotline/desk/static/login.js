import { lang, switchLanguage, toast, translator } from "./common.js";

const t = translator({
  username: ["用户名", "Username"], password: ["密码", "Password"], login: ["登录", "Log in"],
  switch: ["English", "中文"], failed: ["登录失败：{0}", "Login failed: {0}"],
});
document.querySelectorAll("[data-t]").forEach((n) => { n.textContent = t(n.dataset.t); });
document.getElementById("lang-switch").textContent = t("switch");
document.getElementById("lang-switch").addEventListener("click", switchLanguage);

// Only a same-site path is followed after the login (no open redirect).
function next(role) {
  const want = new URLSearchParams(location.search).get("next") || "";
  if (want.startsWith("/") && !want.startsWith("//")) return want;
  return role === "agent" ? "/agent" : "/supervisor";
}

document.getElementById("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { username: document.getElementById("username").value.trim(),
                 password: document.getElementById("password").value };
  const resp = await fetch(`/api/v1/auth/login${lang === "en" ? "?lang=en" : ""}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    credentials: "same-origin" });
  const data = await resp.json().catch(() => null);
  if (!resp.ok) {
    toast(t("failed", (data && (data.detail || data.title)) || resp.status), "error");
    return;
  }
  location.href = next(data.user.role);
});
