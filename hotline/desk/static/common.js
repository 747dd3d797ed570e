// What the desk's pages share: the language switch, the JSON API with the session cookie
// and its CSRF token, the live socket with reconnects, durations. Plain ES module.

const LANG_COOKIE = "hotline_lang";

export const lang = document.documentElement.lang === "en" ? "en" : "zh";

// Each page passes its own table: {key: [中文, English]}.
export function translator(table) {
  return (key, ...args) => {
    const pair = table[key];
    let text = pair ? pair[lang === "en" ? 1 : 0] : key;
    args.forEach((a, i) => { text = text.replace(`{${i}}`, String(a)); });
    return text;
  };
}

export function switchLanguage() {
  const next = lang === "en" ? "zh" : "en";
  document.cookie = `${LANG_COOKIE}=${next}; path=/; SameSite=Lax; max-age=31536000`;
  const url = new URL(location.href);
  url.searchParams.delete("lang");
  location.href = url.toString();
}

let csrf = null;

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(path, { method = "GET", body, query } = {}) {
  const url = new URL(path, location.origin);
  if (lang === "en") url.searchParams.set("lang", "en");
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    if (csrf === null) csrf = (await api("/api/v1/auth/me")).csrf_token;
    headers["X-CSRF-Token"] = csrf;
    headers["Content-Type"] = "application/json";
  }
  const resp = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                  credentials: "same-origin" });
  if (resp.status === 401) {
    location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    throw new ApiError(401, null);
  }
  const text = await resp.text();
  const data = text ? JSON.parse(text) : null;
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

// The live socket (/api/v1/live): every message to `onMessage`; reconnects after a drop
// and then calls `onOpen` again so the page reloads what it may have missed.
export function live(onMessage, { onOpen, onState } = {}) {
  let delay = 500;
  const open = () => {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/live`);
    ws.onopen = () => { delay = 500; onState && onState(true); onOpen && onOpen(); };
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      onMessage(msg);
    };
    ws.onclose = () => {
      onState && onState(false);
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 10000);
    };
  };
  open();
}

export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, "0"), ss = String(r).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function since(iso) {
  return iso ? (Date.now() - Date.parse(iso)) / 1000 : 0;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

export function toast(text, kind = "info") {
  const box = document.getElementById("message");
  if (!box) return;
  box.textContent = text;
  box.className = kind;
  box.hidden = !text;
}

// The agents now: their state from the telephony board (the PBX's truth), since when from
// the desk (which saw the change on the live bus); a state the desk has not seen change
// runs from now.
export async function agentsNow() {
  const [board, desk] = await Promise.all([api("/api/v1/telephony/board").catch(() => null), api("/api/v1/desk/agents")]);
  const seen = new Map(desk.agents.map((a) => [a.extension, a]));
  const now = new Date().toISOString();
  const out = (board ? board.agents : desk.agents).map((a) => {
    const d = seen.get(a.extension);
    return { ...a, since: d && d.state === a.state && d.reason === a.reason ? d.since : now };
  });
  return { agents: out, queues: board ? board.queues : [], board };
}
