"""Benchmark: answers before a human, on the golden questions of every shipped profile.

    .venv/bin/python bench/faq.py [--profile bakkah] [--lexical-only] [--errors]

For each profile (tests/faq_golden/<profile>.yaml: questions in Modern Standard Arabic,
Saudi dialect, misspellings, English, and out-of-scope ones that must not be answered),
on the lexical search alone and on the hybrid with the bundled sentence model, prints:
top-1 accuracy on the answerable questions (the best topic is a right one, sure or not),
the share of them answered rightly, of wrong confident answers (a wrong topic said with
confidence), of escalations (nothing sure enough: a researcher offered), the share of
out-of-scope questions answered, and the latency per question (p50, p99). Then the
start-up cost of the model (load and index, seconds), the resident memory it adds, and
how much longer the whole app takes to start with it (median of three fresh processes).
`--errors` lists every wrong or missed question. `--half tuning` takes the questions at
odd places, which the weights and the threshold were chosen on; `--half held-out` the
others, never looked at while tuning.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bot import encoder, profiles  # noqa: E402
from conversations.knowledge import Knowledge, Match, topics  # noqa: E402

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "faq_golden"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def answers(match: Match) -> bool:
    """Whether the bot would answer (a reply counted as answered), not decline or greet."""
    return match.confident and match.topic is not None and match.topic.kind in ("answer", "ask_back")


def run(knowledge: Knowledge, golden: list[dict]) -> tuple[dict[str, float], list[str]]:
    inscope = [g for g in golden if g["expect"]]
    outscope = [g for g in golden if not g["expect"]]
    top1 = right = wrong = escalated = 0
    times: list[float] = []
    errors: list[str] = []
    for g in inscope:
        t = time.perf_counter()
        m = knowledge.search(g["q"])
        times.append(time.perf_counter() - t)
        key = m.topic.key if m.topic else None
        ok = key in g["expect"]
        top1 += ok
        if m.confident and ok:
            right += 1
        elif m.confident:
            wrong += 1
            errors.append(f"WRONG  {g['q']!r} -> {key} {m.confidence:.2f} (want {g['expect']})")
        else:
            escalated += 1
            errors.append(f"missed {g['q']!r} -> {key} {m.confidence:.2f} (want {g['expect']})")
    answered_out = 0
    for g in outscope:
        t = time.perf_counter()
        m = knowledge.search(g["q"])
        times.append(time.perf_counter() - t)
        if answers(m):
            answered_out += 1
            errors.append(f"OUT    {g['q']!r} -> {m.topic.key} {m.confidence:.2f}")
    n = len(inscope) or 1
    times.sort()
    return {
        "questions": len(golden),
        "top1": top1 / n, "right": right / n, "wrong": wrong / n, "escalated": escalated / n,
        "out_answered": answered_out / (len(outscope) or 1),
        "p50": statistics.median(times) * 1000,
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000,
    }, errors


STARTUP = """
import asyncio, sys, time
from bot.app import build_app
from bot.config import Settings
t = time.perf_counter()
async def main():
    app = await build_app(Settings(database_url=sys.argv[2], faq=sys.argv[1]))
    await app.close()
asyncio.run(main())
print(time.perf_counter() - t)
"""


def startup_seconds(mode: str, runs: int = 3) -> float:
    """The median time to build the app (profile, catalogs, database, answers), in a
    fresh process each time."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/startup.db"
        took = [float(subprocess.run([sys.executable, "-c", STARTUP, mode, url], cwd=root,
                                     capture_output=True, text=True, check=True).stdout)
                for _ in range(runs)]
    return statistics.median(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="append", help="one profile (again for more)")
    parser.add_argument("--lexical-only", action="store_true", help="skip the model")
    parser.add_argument("--errors", action="store_true", help="list wrong and missed questions")
    parser.add_argument("--half", choices=("tuning", "held-out", "all"), default="all",
                        help="the questions at odd places (used to tune), the others, or all")
    args = parser.parse_args()
    names = args.profile or [p.stem for p in sorted(GOLDEN.glob("*.yaml"))]
    gc.collect()
    before = rss_mb()
    model, load_s = None, 0.0
    if not args.lexical_only:
        t = time.perf_counter()
        model = encoder.load()
        load_s = time.perf_counter() - t
    table = Table("profile", "search", "questions", "top-1", "answered right", "wrong sure",
                  "escalated", "out-of-scope answered", "p50 ms", "p99 ms", "index s")
    listed: list[str] = []
    totals: dict[str, list[tuple[dict[str, float], int, int]]] = {"lexical": [], "hybrid": []}
    for name in names:
        profile = profiles.load(name)
        golden = yaml.safe_load((GOLDEN / f"{name}.yaml").read_text(encoding="utf-8"))
        if args.half != "all":
            golden = golden[1::2] if args.half == "tuning" else golden[0::2]
        for label, enc in (("lexical", None), ("hybrid", model)):
            if label == "hybrid" and model is None:
                continue
            t = time.perf_counter()
            knowledge = Knowledge(topics(profile), enc)
            index_s = time.perf_counter() - t
            r, errors = run(knowledge, golden)
            inscope = sum(1 for g in golden if g["expect"])
            totals[label].append((r, inscope, len(golden) - inscope))
            table.add_row(name, label, str(r["questions"]), f"{r['top1']:.1%}", f"{r['right']:.1%}",
                          f"{r['wrong']:.1%}", f"{r['escalated']:.1%}", f"{r['out_answered']:.1%}",
                          f"{r['p50']:.1f}", f"{r['p99']:.1f}", f"{index_s:.2f}")
            if args.errors:
                listed += [f"[{name} {label}] {e}" for e in errors]
    for label, rows in totals.items():
        if len(rows) < 2:
            continue
        n_in, n_out = sum(i for _, i, _o in rows), sum(o for _, _i, o in rows)
        mean = {k: sum(r[k] * (i if k != "out_answered" else o) for r, i, o in rows)
                / (n_in if k != "out_answered" else n_out)
                for k in ("top1", "right", "wrong", "escalated", "out_answered")}
        table.add_row("all", label, str(sum(r["questions"] for r, _i, _o in rows)),
                      f"{mean['top1']:.1%}", f"{mean['right']:.1%}", f"{mean['wrong']:.1%}",
                      f"{mean['escalated']:.1%}", f"{mean['out_answered']:.1%}", "", "", "")
    console = Console()
    console.print(table)
    if model is not None:
        console.print(f"model load: {load_s:.2f} s; resident memory: +{rss_mb() - before:.0f} MB "
                      f"(model and {len(names)} profiles' indexes, {rss_mb():.0f} MB in all)")
    if model is not None:
        off, on = startup_seconds("off"), startup_seconds("model")
        console.print(f"start-up of the app: {off:.2f} s without answers, {on:.2f} s with the "
                      f"model (+{on - off:.2f} s)")
    for line in listed:
        console.print(line, markup=False)


if __name__ == "__main__":
    main()
