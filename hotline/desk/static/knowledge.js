// 知识库 panel: as the agent types the draft, the entries that answer it (question, short
// answer, policy source); one click answers the citizen from an entry and resolves the order
// directly with the entry cited (POST /api/v1/workorders/{number}/resolve-with-knowledge).
import { api, el, translator } from "./common.js";

const t = translator({
  hint: ["输入诉求内容后，这里显示知识库中的相关答复口径。", "Type the citizen's matter: answers from the knowledge base appear here."],
  none: ["未找到相关知识条目", "No matching entry"],
  source: ["政策依据：{0}", "Source: {0}"], no_source: ["（未注明政策依据）", "(no policy source given)"],
  use: ["答复并直接办结", "Answer and resolve"], more: ["全文", "Full answer"],
  unavailable: ["知识库暂不可用：{0}", "Knowledge base unavailable: {0}"],
});
const SHORT = 90;  // characters of the answer shown before "full answer"

// root: the panel's section; desk: { text(): the draft's words, editable(): may it be resolved now,
// resolve(hit): answer and resolve citing the entry }.
export function knowledgePanel(root, desk) {
  const body = root.querySelector(".panel-body");
  body.textContent = t("hint");
  let timer = null, seq = 0, asked = null;

  function item(h) {
    const short = h.answer.length > SHORT ? `${h.answer.slice(0, SHORT)}…` : h.answer;
    return el("li", { class: "kb-hit", dataset: { entry: String(h.id), key: h.key } },
      el("b", { class: "kb-q", text: h.question }), " ", el("code", { text: `${h.key} · v${h.version}` }),
      el("p", { class: "kb-a", text: short }),
      h.answer.length > SHORT ? el("details", {}, el("summary", { text: t("more") }), el("p", { text: h.answer })) : null,
      el("p", { class: "kb-src hint", text: h.policy_source ? t("source", h.policy_source) : t("no_source") }),
      el("button", { type: "button", class: "kb-use", text: t("use"), disabled: !desk.editable(),
        onclick: () => desk.resolve(h) }));
  }

  async function run() {
    const text = desk.text();
    if (text === asked) return;
    asked = text;
    const mine = ++seq;
    let hits;
    try { hits = await api("/api/v1/knowledge/suggest", { method: "POST", body: { text, limit: 5 } }); } catch (err) {
      if (mine === seq) body.textContent = t("unavailable", err.message || err);
      return;
    }
    if (mine !== seq) return;  // a later keystroke asked again meanwhile
    body.classList.toggle("hint", !hits.length);
    if (!text.trim()) body.textContent = t("hint");
    else if (!hits.length) body.textContent = t("none");
    else body.replaceChildren(el("ol", { class: "kb-hits" }, hits.map(item)));
  }

  return {
    soon() { clearTimeout(timer); timer = setTimeout(run, 300); },  // debounced: one request per pause in typing
    now() { clearTimeout(timer); asked = null; return run(); },
    focus() { const b = root.querySelector("button.kb-use:not([disabled])"); if (b) b.focus(); return Boolean(b); },
  };
}
