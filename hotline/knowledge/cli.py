"""The knowledge module's sub-commands of `hotline`:

    hotline knowledge import FILE [--approver NAME]       CSV or XLSX, all rows or none, with progress
    hotline knowledge export --out FILE [--format csv|xlsx]
    hotline knowledge search "问题"                         what the agents' search answers
    hotline knowledge train-routing [--generated N]         routing assist: train, print held-out top-1/top-3
"""

from __future__ import annotations

import asyncio
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from hotline.cli_support import Fail

if TYPE_CHECKING:
    import argparse

    from hotline.module import Cli, Subcommands


def add_commands(sub: Subcommands, cli: Cli) -> None:
    kb = sub.add_parser("knowledge", help="the knowledge base (知识库): import, export, search; routing assist: train-routing")
    ksub = kb.add_subparsers(dest="knowledge_command", metavar="ACTION", required=True)
    imp = ksub.add_parser("import", help="import entries from CSV or XLSX (matched on 编号; all rows or none)")
    imp.add_argument("file", help="a .csv (UTF-8) or .xlsx file; columns 编号 问题 答案 政策依据 部门 生效日期 失效日期 标签 公开")
    imp.add_argument("--approver", default="import", help="who approved the entries (recorded in their history)")
    imp.set_defaults(func=partial(cmd_import, cli))
    exp = ksub.add_parser("export", help="export the active entries")
    exp.add_argument("--out", required=True, help="the file to write")
    exp.add_argument("--format", choices=("csv", "xlsx"), help="default: from the file's extension, else csv")
    exp.set_defaults(func=partial(cmd_export, cli))
    search = ksub.add_parser("search", help="search the entries as the agents' desk does")
    search.add_argument("text")
    search.add_argument("--limit", type=int, default=5)
    search.set_defaults(func=partial(cmd_search, cli))
    tr = ksub.add_parser("train-routing", help="train routing assist on the handled orders; print top-1/top-3 "
                                               "on a held-out split")
    tr.add_argument("--generated", type=int, metavar="N",
                    help="learn from N generated orders of the sample county instead (demo, no history yet)")
    tr.set_defaults(func=partial(cmd_train_routing, cli))


async def cmd_import(cli: Cli, args: argparse.Namespace) -> int:
    from hotline.errors import ValidationFailed
    from hotline.knowledge.service import KnowledgeBase
    from hotline.knowledge.tabular import parse_rows, read_table

    path = Path(args.file)
    fmt = "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv"
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise Fail(f"无法读取 / cannot read {path}: {exc.strerror}") from None
    async with cli.open_hotline(cli.settings()) as h:
        kb = h.module(KnowledgeBase)
        try:
            entries = parse_rows(read_table(data, fmt), kb.department_code)
        except ValidationFailed as exc:
            for e in exc.extra.get("errors", [])[1:20]:
                print(e["msg"], file=sys.stderr)
            raise Fail(f"未导入任何条目 / nothing imported: {exc.detail}") from None
        print(f"读取 {len(entries)} 条 / read {len(entries)} rows from {path}", flush=True)

        def progress(done: int, total: int) -> None:
            print(f"  {done}/{total}", flush=True)

        out = await kb.import_entries(entries, args.approver, progress)
    print(f"新增 {out.created}，更新 {out.updated}，未变 {out.unchanged} / "
          f"created {out.created}, updated {out.updated}, unchanged {out.unchanged}")
    return 0


async def cmd_export(cli: Cli, args: argparse.Namespace) -> int:
    from hotline.knowledge.service import KnowledgeBase
    from hotline.knowledge.tabular import write_csv, write_xlsx

    out = Path(args.out)
    fmt = args.format or ("xlsx" if out.suffix.lower() == ".xlsx" else "csv")
    async with cli.open_hotline(cli.settings()) as h:
        rows = await h.module(KnowledgeBase).entries()
    data = write_xlsx(rows) if fmt == "xlsx" else write_csv(rows)
    try:
        await asyncio.to_thread(out.write_bytes, data)
    except OSError as exc:
        raise Fail(f"无法写入 / cannot write {out}: {exc.strerror}") from None
    print(f"导出 {len(rows)} 条 / exported {len(rows)} entries to {out}")
    return 0


async def cmd_search(cli: Cli, args: argparse.Namespace) -> int:
    from hotline.knowledge.service import KnowledgeBase

    async with cli.open_hotline(cli.settings()) as h:
        kb = h.module(KnowledgeBase)
        print("分词 / terms:", " ".join(kb.segmenter.query_terms(args.text)))
        hits = await kb.search(args.text, limit=max(1, min(args.limit, 50)))
    for x in hits:
        print(f"{x.key}\t{x.score:.3f}\t{x.question}")
    if not hits:
        print("无结果 / no match")
    return 0


async def cmd_train_routing(cli: Cli, args: argparse.Namespace) -> int:
    from hotline.errors import ValidationFailed
    from hotline.knowledge.history import generate
    from hotline.knowledge.service import KnowledgeBase

    if args.generated is not None and not 100 <= args.generated <= 1_000_000:
        raise Fail("--generated 须在 100 到 1000000 之间 / must be 100 to 1,000,000")
    s = cli.settings()
    async with cli.open_hotline(s) as h:
        assist = h.module(KnowledgeBase).assist
        assert assist is not None
        samples = None
        if args.generated is not None:
            if not h.rule_routers:
                raise Fail("没有派单规则可用于生成历史 / no routing rules to label a generated history")
            samples = generate(s, h.rule_routers[0], args.generated)
            print(f"生成 {len(samples)} 件历史工单 / generated {len(samples)} orders", flush=True)
        print("训练中 / training …", flush=True)
        try:
            t = await assist.train(samples, source="generated" if samples is not None else "orders")
        except ValidationFailed as exc:
            raise Fail(exc.detail) from None
    print(f"模型 {t.id}: 训练 {t.trained_on} 件，留出 {t.tested_on} 件，{t.departments} 个部门 / "
          f"model {t.id}: trained on {t.trained_on}, held out {t.tested_on}, {t.departments} departments")
    print(f"top-1 {t.top1:.1%}  top-3 {t.top3:.1%}  (派单规则 / routing rules alone: top-1 {t.rules_top1:.1%})")
    return 0
