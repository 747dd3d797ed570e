// 并单 on the desk: the orders this one may repeat — agreeing on place, matter and time (the
// knowledge module's candidates), or from the same caller — each with why; one click merges the
// order being taken under the chosen one (主工单), POST /api/v1/knowledge/merges.
import { api, el, translator } from "./common.js";

const t = translator({
  title: ["疑似重复诉求（同地点、同事项、时间相近）", "Possible duplicates (same place, matter, time)"],
  place: ["地点", "Place"], matter: ["事项", "Matter"], time: ["时间", "Time"], text: ["文字", "Text"],
  hours: ["相隔 {0} 小时", "{0} h apart"], similar: ["相似度 {0}", "similarity {0}"],
  same_citizen: ["同一来电人", "Same caller"], same_address: ["同一地址", "Same address"],
  same_subject_area: ["同一事项同一区域", "Same subject and area"],
  merge: ["并入此单（作为主单）", "Merge into this one (parent)"],
});

async function candidates(number) {
  const n = encodeURIComponent(number);
  const [kb, citizen] = await Promise.allSettled([api(`/api/v1/workorders/${n}/duplicates`),
    api(`/api/v1/workorders/${n}/merge-candidates`)]);
  const out = (kb.status === "fulfilled" ? kb.value : []).map((c) => ({ number: c.number, title: c.title,
    why: [[t("place"), c.reasons[0] || c.place], [t("matter"), c.reasons[1] || ""],
      [t("time"), t("hours", c.hours_apart)], [t("text"), t("similar", c.similarity.toFixed(2))]] }));
  const seen = new Set(out.map((c) => c.number));
  // The same caller's other open orders: a repeat call about one matter is a 补充 or a merge.
  for (const c of citizen.status === "fulfilled" ? citizen.value : []) {
    if (seen.has(c.number) || !c.why.length) continue;
    const hours = Math.abs(Date.now() - Date.parse(c.created_at)) / 3600000;
    out.push({ number: c.number, title: c.title, why: [[t("matter"), c.why.map((w) => t(w)).join("、")],
      [t("time"), t("hours", hours.toFixed(1))]] });
  }
  return out;
}

// box: the duplicates box; order: the order being taken; merge(parent): merge it under parent.
export async function showDuplicates(box, order, merge, editable) {
  box.replaceChildren();
  let found;
  try { found = await candidates(order.number); } catch { return; }
  if (!found.length) return;
  box.append(el("h3", { text: t("title") }), el("ul", { class: "dups" }, found.map((c) =>
    el("li", { dataset: { number: c.number } }, el("code", { text: c.number }), " ", el("b", { text: c.title }),
      el("dl", { class: "facts why" }, c.why.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])),
      el("button", { type: "button", class: "merge-into", text: t("merge"), disabled: !editable,
        "aria-label": `${t("merge")} ${c.number}`, onclick: () => merge(c.number) })))));
}
