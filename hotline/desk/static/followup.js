// 回访 panel: the follow-up queue (orders a department has replied to, GET
// /api/v1/supervisor/follow-ups) with each task's due time and an overdue mark, a click to call
// the citizen, and the form the agent records the call with (reached or not, resolved or not,
// the 5-level rating, the citizen's own words) — POST /api/v1/workorders/{number}/follow-up.
// A call that reached the citizen takes the task off the queue; one that did not counts an attempt.
import { api, el, lang, translator } from "./common.js";

const t = translator({
  empty: ["暂无待回访工单", "No follow-up due"], number: ["工单号", "Number"], title: ["标题", "Title"],
  contact: ["联系人", "Citizen"], due: ["应回访时间", "Due"], tries: ["未接通", "Not reached"],
  overdue: ["已到期", "Due now"], not_due: ["未到期", "Not yet due"], reopen: ["重办第{0}轮", "reopen round {0}"],
  call: ["拨打", "Call"], record: ["登记回访", "Record"], calling: ["正在外呼 {0}", "Calling {0}"],
  form: ["回访登记：{0}", "Follow-up of {0}"], reply: ["部门答复：{0}", "Department's reply: {0}"],
  reached: ["是否联系上", "Reached"], yes_reached: ["已联系上", "Reached"], not_reached: ["未接通/未联系上", "Not reached"],
  resolved: ["问题是否解决", "Resolved"], unknown: ["未说明", "Not said"], yes: ["已解决", "Resolved"], no: ["未解决", "Not resolved"],
  rating: ["满意度", "Rating"], no_rating: ["未评价", "No rating"], words: ["市民原话", "Citizen's words"],
  note: ["备注", "Note"], submit: ["提交回访", "Save follow-up"], cancel: ["取消", "Cancel"],
  saved: ["已登记回访：{0}", "Follow-up recorded: {0}"], attempt: ["已记录未接通：{0}", "Attempt recorded: {0}"],
});

const when = (iso) => new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "zh-CN",
  { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });

// root: the panel's section; desk: { satisfaction: [{level, name}], toast(text, kind), fail(err) }.
export function followupPanel(root, desk) {
  const body = root.querySelector(".panel-body");
  body.classList.remove("hint");
  const list = el("table", { id: "followup-list" }, el("thead", {}, el("tr", {}, ...["number", "title", "contact", "due", "tries"]
    .map((k) => el("th", { text: t(k) })), el("th"))), el("tbody"));
  const form = el("form", { id: "fu-form", hidden: true });
  body.replaceChildren(list, form);
  let items = [];

  async function call(item) {
    try {
      await api("/api/v1/telephony/calls/originate", { method: "POST", body: { number: item.contact_phone } });
      desk.toast(t("calling", item.contact_phone), "ok");
    } catch (err) { desk.fail(err); }
  }

  function open(item) {
    const radio = (value, key, checked) => el("label", { class: "check" },
      el("input", { type: "radio", name: "fu-reached", value, checked }), " ", t(key));
    const select = (id, opts) => el("select", { id }, opts.map(([v, label]) => el("option", { value: v, text: label })));
    form.replaceChildren(
      el("h3", { text: t("form", item.number) }),
      item.result ? el("p", { class: "hint", text: t("reply", item.result) }) : null,
      el("fieldset", {}, el("legend", { text: t("reached") }), radio("yes", "yes_reached", true), radio("no", "not_reached", false)),
      el("div", { class: "row" },
        el("label", {}, el("span", { text: t("resolved") }), select("fu-resolved", [["", t("unknown")], ["yes", t("yes")], ["no", t("no")]])),
        el("label", {}, el("span", { text: t("rating") }),
          select("fu-rating", [["", t("no_rating")], ...desk.satisfaction.map((s) => [String(s.level), `${s.level} ${s.name}`])]))),
      el("label", {}, el("span", { text: t("words") }), el("textarea", { id: "fu-words", rows: 2, maxlength: 2000 })),
      el("label", {}, el("span", { text: t("note") }), el("input", { id: "fu-note", maxlength: 5000 })),
      el("div", { class: "buttons" }, el("button", { type: "submit", id: "fu-submit", text: t("submit") }),
        el("button", { type: "button", text: t("cancel"), onclick: () => { form.hidden = true; } })));
    form.dataset.number = item.number;
    form.hidden = false;
    form.querySelector("input[name=fu-reached]").focus();
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const item = items.find((i) => i.number === form.dataset.number);
    if (!item) return;
    const reached = form.querySelector("input[name=fu-reached]:checked").value === "yes";
    const resolved = form.querySelector("#fu-resolved").value;
    const rating = form.querySelector("#fu-rating").value;
    const body = { expected_version: item.version, reached, words: form.querySelector("#fu-words").value.trim(),
      note: form.querySelector("#fu-note").value.trim(),
      // Not reached: nobody said anything, so no rating and no answer on the matter.
      resolved: reached && resolved ? resolved === "yes" : null, rating: reached && rating ? Number(rating) : null };
    try {
      await api(`/api/v1/workorders/${encodeURIComponent(item.number)}/follow-up`, { method: "POST", body });
      desk.toast(t(reached ? "saved" : "attempt", item.number), "ok");
      form.hidden = true;
    } catch (err) { desk.fail(err); }
    load();
  });

  async function load() {
    let page;
    try { page = await api("/api/v1/supervisor/follow-ups", { query: { limit: 50 } }); } catch (err) { return desk.fail(err); }
    // What is due first, the earliest due on top.
    items = page.items.slice().sort((a, b) => (b.due - a.due) || String(a.due_at).localeCompare(String(b.due_at)));
    list.tBodies[0].replaceChildren(...(items.length ? items.map((i) => el("tr", { dataset: { number: i.number, due: String(i.due) } },
      el("td", { text: i.number }), el("td", { text: i.round ? `${i.title}（${t("reopen", i.round)}）` : i.title }),
      el("td", { text: [i.contact_name, i.contact_phone].filter(Boolean).join(" ") || "—" }),
      el("td", {}, i.due_at ? when(i.due_at) : "—", " ",
        el("span", { class: i.due ? "mark warn overdue" : "mark", text: t(i.due ? "overdue" : "not_due") })),
      el("td", { text: String(i.attempts) }),
      el("td", {}, el("button", { type: "button", class: "fu-call", text: t("call"), disabled: !i.contact_phone,
        "aria-label": `${t("call")} ${i.contact_phone || ""}`, onclick: () => call(i) }),
      el("button", { type: "button", class: "fu-record", text: t("record"), onclick: () => open(i) }))))
      : [el("tr", {}, el("td", { colspan: 6, class: "hint", text: t("empty") }))]));
    if (!form.hidden && !items.some((i) => i.number === form.dataset.number)) form.hidden = true;
  }

  return { load };
}
