// 派单辅助: the top-3 departments the model trained on the county's closed orders suggests
// for the draft, with its confidence, beside the routing rule's suggestion. Advisory only: a
// click sets the lead department, the agent still dispatches.
import { api, el, translator } from "./common.js";

const t = translator({
  title: ["智能推荐（仅供参考）：", "Suggested (advisory): "],
  rule: ["规则", "rule"], pick: ["设为主办：{0}", "Make {0} the lead"],
});

let seq = 0;
// box: where the buttons go; facts: {text, category, subject, area}; pick(code): set the lead.
export async function assistInto(box, facts, pick, lead) {
  const mine = ++seq;
  let r;
  try { r = await api("/api/v1/knowledge/routing/suggest", { method: "POST", body: facts }); } catch {
    if (mine === seq) box.replaceChildren();  // without the knowledge module there is no assist
    return;
  }
  if (mine !== seq) return;
  if (!r.suggestions.length) { box.replaceChildren(); return; }
  box.dataset.source = r.source;
  box.replaceChildren(el("span", { class: "hint", text: t("title") }), ...r.suggestions.map((s) => {
    const conf = s.confidence === null ? t("rule") : `${Math.round(s.confidence * 100)}%`;
    return el("button", { type: "button", class: "link assist", dataset: { department: s.department },
      "aria-pressed": String(s.department === lead), title: `${t("pick", s.name)} · ${s.reason}`,
      text: `${s.name} ${conf}`, onclick: (e) => {
        pick(s.department);
        box.querySelectorAll("button.assist").forEach((b) => b.setAttribute("aria-pressed", String(b === e.currentTarget)));
      } });
  }));
}
