"""The knowledge base: entries and their versions through the API, CSV/XLSX import and
export (all rows or none), search quality on a fixed set of callers' questions, suggestions
from a draft, answering an order from an entry, and the public FAQ."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import unquote

import pytest

from hotline.knowledge.service import KnowledgeBase
from hotline.knowledge.tabular import parse_rows, read_table

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "config" / "knowledge" / "qingshan.csv"
QUESTIONS = ROOT / "tests" / "fixtures" / "knowledge_questions.csv"
# The top-3 hit rate reached on the fixed set (tests/fixtures/knowledge_questions.csv) by
# each engine's ranking; asserted so that it cannot regress.
TOP3_FLOOR = {"sqlite": 0.94, "postgresql": 0.94}  # 48 of 51 on both when written

ENTRY = {"question": "犬只免疫在哪里打？", "answer": "县动物疫病预防控制中心每周二免费接种狂犬疫苗。",
         "policy_source": "《动物防疫法》", "department": "nyncj", "tags": ["养犬", "防疫"], "public": True}


async def _load_sample(h) -> KnowledgeBase:
    kb = h.module(KnowledgeBase)
    await kb.import_entries(parse_rows(read_table(SAMPLE.read_bytes(), "csv"), kb.department_code), "test")
    return kb


async def test_entries_crud_with_versions_and_approver(hotline, client, supervisor, agent):
    status, e = await supervisor.post("/api/v1/knowledge/entries", json=ENTRY)
    assert status == 201, e
    assert (e["key"], e["version"], e["department_name"], e["status"]) == ("KB00001", 1, "青山县农业农村局", "active")
    assert e["approved_by"].startswith("supervisor-")
    # Agents read and search; they do not write.
    status, _ = await agent.post("/api/v1/knowledge/entries", json=ENTRY)
    assert status == 403
    status, got = await agent.get(f"/api/v1/knowledge/entries/{e['id']}")
    assert (status, got["question"]) == (200, ENTRY["question"])

    changed = {**ENTRY, "answer": "县动物疫病预防控制中心每周二、周四免费接种。", "expected_version": 1}
    status, e2 = await supervisor.call("PUT", f"/api/v1/knowledge/entries/{e['id']}", json=changed)
    assert (status, e2["version"]) == (200, 2)
    status, stale = await supervisor.call("PUT", f"/api/v1/knowledge/entries/{e['id']}", json=changed)
    assert (status, stale["code"]) == (409, "version_conflict")
    status, bad = await supervisor.post("/api/v1/knowledge/entries", json={**ENTRY, "department": "nope"})
    assert (status, bad["code"]) == (422, "unknown_department")
    status, bad = await supervisor.post("/api/v1/knowledge/entries",
                                        json={**ENTRY, "valid_from": "2026-05-01", "valid_to": "2026-01-01"})
    assert status == 422
    status, bad = await supervisor.get("/api/v1/knowledge/entries/abc")
    assert status == 404

    status, hits = await agent.get("/api/v1/knowledge/search", params={"q": "狗打疫苗去哪"})
    assert status == 200 and hits[0]["key"] == "KB00001"
    status, _ = await supervisor.post(f"/api/v1/knowledge/entries/{e['id']}/retire",
                                    json={"expected_version": 2, "reason": "政策已调整"})
    assert status == 200
    status, hits = await agent.get("/api/v1/knowledge/search", params={"q": "狗打疫苗去哪"})
    assert (status, hits) == (200, [])  # a retired entry leaves the search
    status, versions = await agent.get(f"/api/v1/knowledge/entries/{e['id']}/versions")
    assert [(v["version"], v["change"]) for v in versions] == [(1, "created"), (2, "updated"), (3, "retired")]
    assert versions[0]["data"]["answer"] == ENTRY["answer"]
    assert versions[2]["data"]["reason"] == "政策已调整" and "reason" not in versions[1]["data"]

    async with client.get("/api/v1/openapi.json") as r:
        paths = (await r.json())["paths"]
    assert {"/api/v1/knowledge/entries", "/api/v1/knowledge/search", "/api/v1/knowledge/suggest",
            "/api/v1/knowledge/import", "/api/v1/workorders/{number}/resolve-with-knowledge"} <= set(paths)


async def test_search_quality_on_the_fixed_question_set(hotline):
    """Callers' own words against the sample county's entries: the expected entry among the
    first three results. The rate is printed and held at the figure reached."""
    kb = await _load_sample(hotline)
    rows = list(csv.DictReader(QUESTIONS.open(encoding="utf-8")))
    assert len(rows) >= 40
    hits1 = hits3 = 0
    misses = []
    for row in rows:
        keys = [h.key for h in await kb.search(row["question"], limit=3)]
        hits1 += keys[:1] == [row["expected"]]
        hits3 += row["expected"] in keys
        if row["expected"] not in keys:
            misses.append((row["question"], row["expected"], keys))
    dialect = hotline.engine.dialect.name
    print(f"\nknowledge search on {dialect}: top-1 {hits1 / len(rows):.1%}, top-3 {hits3 / len(rows):.1%} "
          f"of {len(rows)} questions; misses: {misses}")
    assert hits3 / len(rows) >= TOP3_FLOOR[dialect], misses


@pytest.mark.parametrize("db_kind", ["sqlite"])
async def test_suggestions_follow_the_draft(hotline, client, agent):
    await _load_sample(hotline)
    status, none = await agent.post("/api/v1/knowledge/suggest", json={"text": "路灯"})
    assert (status, none) == (200, [])  # too short to suggest anything yet
    status, hits = await agent.post("/api/v1/knowledge/suggest",
                                    json={"text": "市民来电反映凤凰街道锦绣社区门口街道路灯不亮已经三天"})
    assert status == 200 and hits[0]["key"] == "QS-CG-001"
    status, bad = await agent.post("/api/v1/knowledge/suggest", json={"words": "x"})
    assert status == 422


@pytest.mark.parametrize("db_kind", ["sqlite"])  # one transaction of ORM writes: the same code on both engines
async def test_import_is_all_or_nothing_and_export_round_trips(hotline, client, supervisor):
    good = SAMPLE.read_bytes()
    status, out = await supervisor.post("/api/v1/knowledge/import", data=good, headers={"Content-Type": "text/csv"})
    assert (status, out["created"]) == (200, 51), out
    status, again = await supervisor.post("/api/v1/knowledge/import", data=good, headers={"Content-Type": "text/csv"})
    assert again == {"created": 0, "updated": 0, "unchanged": 51}

    lines = good.decode("utf-8").splitlines()
    lines[1] = lines[1].replace("ybj", "no-such-dept")  # one bad row among changed ones
    lines[2] = lines[2].replace("报销", "报销（已更新）")
    status, problem = await supervisor.post("/api/v1/knowledge/import", data="\n".join(lines).encode(),
                                            headers={"Content-Type": "text/csv"})
    assert (status, problem["code"]) == (422, "bad_rows")
    assert "第 2 行" in problem["detail"]
    status, page = await supervisor.get("/api/v1/knowledge/entries", params={"limit": 500})
    assert all("已更新" not in e["answer"] for e in page["items"])  # nothing half-written
    status, problem = await supervisor.post("/api/v1/knowledge/import", data=b"\xff\xfe",
                                            headers={"Content-Type": "text/csv"})
    assert status == 422
    status, problem = await supervisor.post("/api/v1/knowledge/import", data=b"x", headers={"Content-Type": "image/png"})
    assert status == 415

    async with supervisor.client.get("/api/v1/knowledge/export", params={"format": "xlsx"},
                                     headers=supervisor.headers) as r:
        assert r.status == 200
        xlsx = await r.read()
    rows = read_table(xlsx, "xlsx")
    assert rows[0][:3] == ["编号", "问题", "答案"] and len(rows) == 52
    # The exported workbook imports back unchanged.
    status, back = await supervisor.post(
        "/api/v1/knowledge/import", data=xlsx,
        headers={"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    assert (status, back["unchanged"]) == (200, 51), back
    async with supervisor.client.get("/api/v1/knowledge/export", headers=supervisor.headers) as r:
        text = (await r.read()).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(text)))[0] == "编号"


@pytest.mark.parametrize("db_kind", ["sqlite"])
async def test_resolve_an_order_citing_an_entry(hotline, client, agent):
    kb = await _load_sample(hotline)
    status, order = await agent.post("/api/v1/workorders", json={"text": "在外地看病怎么报销", "category": "inquiry",
                                                                 "caller": {"phone": "13800001111"}})
    assert status == 201
    entry = (await kb.search("在外地看病怎么报销", limit=1))[0]
    number = order["number"]
    status, bad = await agent.post(f"/api/v1/workorders/{number}/resolve-with-knowledge", json={"entry_id": 99999})
    assert (status, bad["code"]) == (422, "bad_entry")
    status, out = await agent.post(f"/api/v1/workorders/{number}/resolve-with-knowledge",
                                   json={"entry_id": entry.id, "expected_version": 1})
    assert status == 200, out
    assert out["status"] == "resolved_directly"
    status, detail = await agent.get(f"/api/v1/workorders/{number}")
    answer = next(e for e in detail["events"] if e["kind"] == "resolved_directly")["data"]["answer"]
    assert entry.key in answer and "第1版" in answer and entry.answer in answer
    assert (await kb.get(entry.id)).cited == 1
    status, again = await agent.post(f"/api/v1/workorders/{number}/resolve-with-knowledge",
                                     json={"entry_id": entry.id})
    assert status == 409  # resolved already: the work-order rules decide
    assert (await kb.get(entry.id)).cited == 1  # and the refused action counted nothing


@pytest.mark.parametrize("db_kind", ["sqlite"])
async def test_public_faq_shows_only_public_entries(hotline, client):
    await _load_sample(hotline)
    async with client.get("/portal/faq") as r:
        html = await r.text()
    assert r.status == 200 and "常见问题" in html and "异地就医备案怎么办理" in html
    assert "内部口径" not in html and "approved" not in html  # internal entries and approvers stay inside
    async with client.get("/portal/faq", params={"q": "在外地看病", "lang": "en"}) as r:
        html = await r.text()
    assert r.status == 200 and "FAQ" in html and "异地就医" in html and "中文" in html
    async with client.get("/portal/faq", params={"q": "媒体来电询问热线数据"}) as r:
        assert "内部口径" not in await r.text()


def test_cli_import_with_progress_and_export(tmp_path, monkeypatch, capsys):
    """`hotline knowledge import/export/train-routing` through the real entry point,
    `hotline.cli.main`, in-process (as tests/integration/test_cli_errors.py does)."""
    from hotline import cli

    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "var"))
    for name in ("HOTLINE_CONFIG", "HOTLINE_DATABASE_URL", "HOTLINE_DATABASE_SCHEMA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("hotline.logs.setup_logging", lambda *a, **k: None)  # keep pytest's log capture

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    assert run("db", "upgrade")[0] == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("编号,问题,答案,部门\nX1,问题,答案,nope\n", encoding="utf-8")
    code, _, err = run("knowledge", "import", str(bad))
    assert code == 1 and err.startswith("hotline: 未导入任何条目") and "第 2 行" in err and "Traceback" not in err
    code, out, err = run("knowledge", "import", str(SAMPLE), "--approver", "卢建国")
    assert code == 0, err
    assert "读取 51 条" in out and "  51/51" in out and "新增 51" in out
    xlsx = tmp_path / "out.xlsx"
    code, out, err = run("knowledge", "export", "--out", str(xlsx))
    assert code == 0 and "导出 51 条" in out, err
    assert len(read_table(xlsx.read_bytes(), "xlsx")) == 52
    code, _, err = run("knowledge", "train-routing")  # no handled orders yet: one line, the rules go on
    assert code == 1 and "min_orders" in err and "Traceback" not in err
    code, out, err = run("knowledge", "train-routing", "--generated", "300")
    assert code == 0, err
    assert "trained on 240, held out 60" in out and "top-1 " in out and "top-3 " in out


async def test_the_knowledge_page_by_role(hotline, client, monkeypatch):
    """`/knowledge` mirrors the API's roles: staff read, supervisors/admins write, anything
    else (a department's principal) gets the 403 page; without a session the login page."""
    from hotline.auth import Principal
    from hotline.domain.vocabulary import UserRole
    from hotline.web.auth_views import SESSION_COOKIE

    async with client.get("/knowledge/", allow_redirects=False) as r:
        assert r.status == 302 and unquote(r.headers["Location"]) == "/login?next=/knowledge/"
    cases = [(Principal(kind="user", id="u1", name="班长", role=UserRole.SUPERVISOR), 200, 'data-can-write="true"'),
             (Principal(kind="user", id="u2", name="管理员", role=UserRole.ADMIN), 200, 'data-can-write="true"'),
             (Principal(kind="user", id="u3", name="话务员", role=UserRole.AGENT), 200, 'data-can-write="false"'),
             (Principal(kind="department", id="jtj", name="交通局", department="jtj"), 403, "无权访问")]
    for who, status, marker in cases:
        async def user_for_token(token, now, *, via_cookie=False, who=who):  # type: ignore[no-untyped-def]
            assert token == "t" and via_cookie
            return who
        monkeypatch.setattr(hotline.auth, "user_for_token", user_for_token)
        async with client.get("/knowledge", headers={"Cookie": f"{SESSION_COOKIE}=t"}, allow_redirects=False) as r:
            assert r.status == status and marker in await r.text(), who
            assert "default-src 'none'" in r.headers["Content-Security-Policy"]
