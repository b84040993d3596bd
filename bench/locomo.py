"""LoCoMo evidence-retrieval benchmark of any server speaking seed 001's HTTP API."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

if __package__ in (None, ""):  # run as `python bench/locomo.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.locomo_metrics import (  # noqa: E402
    ROW_ORDER,
    QuestionScore,
    aggregate_by_category,
    distinct_turns,
    ndcg_at_k,
    percentile,
    recall_at_k,
    reciprocal_rank,
)

USAGE = """\
Protocol. Each LoCoMo conversation is one user ("locomo-conv-26"); each of its sessions is one
working-memory session ("locomo-conv-26-s3") written with a single PUT. A turn becomes a
message: id "conv-26_D1_3" (its dia_id made URL-safe), content "<speaker>: <text>" plus
" [shares <blip_caption>]" when the turn shared an image, created_at = the session's date plus
one second per turn (keeps the order). Both speakers are people: the conversation's first
speaker is sent as role "user", the other as "assistant". Each question searches its user's
memories (limit 20); results map back to dialog ids through their id and extracted_from, and
k counts distinct turns. Categories: 4 single-hop, 1 multi-hop, 2 temporal, 3 open-domain
(together "overall"), 5 adversarial apart. Splits: dev = the file's first five
conversations, test = the last five. Searches send "recency_boost": false unless
--recency-boost: servers that boost recently accessed memories and count each search result
as an access would otherwise let earlier questions reorder later ones (order-dependent,
unrepeatable numbers; LoCoMo's 2023 dates make the created-at part of the boost flat anyway).
Evidence ids are normalised ("D8:6; D9:17" is two ids); ids naming no turn of the data are
dropped and counted, questions left without evidence are skipped and counted. Every run
writes into a fresh namespace ("locomo-<timestamp>") and leaves its data behind: deleting
working memory would not delete the long-term message memories.

Data: LoCoMo (CC BY-NC 4.0) is read in place from --data and never copied into the repository.
Example: .venv/bin/python bench/locomo.py --url http://127.0.0.1:8000 --conversations 1
The plot needs matplotlib (pip install matplotlib); without it the run still completes.
"""

REPO = Path(__file__).resolve().parent.parent
DEV_SIZE = 5  # dev = the first five conversations of the file, test = the rest
RECALL_KS = (5, 10, 20)
SEARCH_LIMIT = 20
COLUMNS = ("R@5", "R@10", "R@20", "NDCG@10", "MRR")
POLL_SECONDS = 2.0
MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_DATE = re.compile(r"(\d{1,2}):(\d{2})\s*([ap]m)\s+on\s+(\d{1,2})\s+([a-z]+),?\s+(\d{4})", re.I)
_EVIDENCE = re.compile(r"D:?(\d+):(\d+)")
_SESSION_KEY = re.compile(r"session_(\d+)")

Json = dict[str, Any]


class BenchError(Exception):
    """The server answered a request with an error."""


@dataclass(frozen=True)
class Turn:
    dia_id: str
    message_id: str
    role: str
    content: str
    created_at: datetime


@dataclass(frozen=True)
class Question:
    index: int
    text: str
    category: int
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Conversation:
    sample_id: str
    split: str
    sessions: dict[str, list[Turn]]  # working-memory session id -> its turns in order
    questions: list[Question]

    @property
    def user_id(self) -> str:
        return f"locomo-{self.sample_id}"

    def dia_ids(self) -> dict[str, str]:
        """Message id -> LoCoMo dialog id."""
        return {t.message_id: t.dia_id for turns in self.sessions.values() for t in turns}


def parse_session_date(text: str) -> datetime:
    """LoCoMo's "1:56 pm on 8 May, 2023" as an aware UTC datetime (locale-independent)."""
    match = _DATE.fullmatch(text.strip())
    if match is None or match[5].lower() not in MONTHS:
        raise ValueError(f"unrecognised LoCoMo date: {text!r}")
    hour = int(match[1]) % 12 + (12 if match[3].lower() == "pm" else 0)
    month = MONTHS.index(match[5].lower()) + 1
    return datetime(int(match[6]), month, int(match[4]), hour, int(match[2]), tzinfo=UTC)


def natural_date(moment: datetime) -> str:
    """The date as a person writes it: "8 May 2023"."""
    return f"{moment.day} {MONTHS[moment.month - 1].title()} {moment.year}"


def message_id(sample_id: str, dia_id: str) -> str:
    """A URL-safe message id for a dialog turn: ("conv-26", "D1:3") -> "conv-26_D1_3"."""
    return f"{sample_id}_{dia_id.replace(':', '_')}"


def normalise_evidence(raw: Iterable[object]) -> tuple[str, ...]:
    """Distinct evidence ids: "D8:6; D9:17" splits in two, "D:11:26" reads D11:26.

    Tokens that are no dialog id at all (a lone "D") are kept, so they count as not found.
    """
    ids: list[str] = []
    for entry in raw:
        for token in re.split(r"[;,\s]+", str(entry)):
            match = _EVIDENCE.fullmatch(token)
            ident = f"D{int(match[1])}:{int(match[2])}" if match else token
            if ident and ident not in ids:
                ids.append(ident)
    return tuple(ids)


def turn_content(raw: Mapping[str, Any], date: datetime | None) -> str:
    """The message text: "<speaker>: <text>" [+ " [shares <caption>]"], dated if asked."""
    content = f"{raw['speaker']}: {raw['text']}"
    if raw.get("blip_caption"):
        content += f" [shares {raw['blip_caption']}]"
    return f"On {natural_date(date)}, {content}" if date else content


def conversation_of(sample: Json, split: str, date_in_text: bool) -> Conversation:
    """One LoCoMo sample as sessions of turns and questions with normalised evidence."""
    sample_id, raw = str(sample["sample_id"]), sample["conversation"]
    numbers = sorted(int(m[1]) for key in raw if (m := _SESSION_KEY.fullmatch(key)) and raw[key])
    first_speaker = raw[f"session_{numbers[0]}"][0]["speaker"]
    sessions: dict[str, list[Turn]] = {}
    for number in numbers:
        start = parse_session_date(raw[f"session_{number}_date_time"])
        sessions[f"locomo-{sample_id}-s{number}"] = [
            Turn(
                dia_id=turn["dia_id"],
                message_id=message_id(sample_id, turn["dia_id"]),
                role="user" if turn["speaker"] == first_speaker else "assistant",
                content=turn_content(turn, start if date_in_text else None),
                created_at=start + timedelta(seconds=offset),
            )
            for offset, turn in enumerate(raw[f"session_{number}"])
        ]
    questions = [
        Question(i, str(q["question"]), int(q["category"]), normalise_evidence(q["evidence"]))
        for i, q in enumerate(sample["qa"])
    ]
    return Conversation(sample_id, split, sessions, questions)


def load_conversations(
    path: Path, split: str, limit: int | None, date_in_text: bool
) -> list[Conversation]:
    """The conversations of a split (dev / test / all), at most `limit` of them."""
    samples = json.loads(path.read_text(encoding="utf-8"))
    splits = ["dev" if i < DEV_SIZE else "test" for i in range(len(samples))]
    chosen = [(s, sp) for s, sp in zip(samples, splits, strict=True) if split in ("all", sp)]
    return [conversation_of(s, sp, date_in_text) for s, sp in chosen[:limit]]


def progress(message: str) -> None:
    """A progress line on stderr, so that stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


def _checked(response: httpx.Response) -> Json:
    if response.is_error:
        request = response.request
        raise BenchError(
            f"{request.method} {request.url} -> {response.status_code}: {response.text[:300]}"
        )
    body: Json = response.json() if response.content else {}
    return body


async def put_session(
    client: httpx.AsyncClient, session_id: str, turns: Sequence[Turn], user_id: str, ns: str
) -> None:
    """Write one LoCoMo session as one working-memory PUT (which replaces the session)."""
    messages = [
        {"id": t.message_id, "role": t.role, "content": t.content,
         "created_at": t.created_at.isoformat()}
        for t in turns
    ]  # fmt: skip
    body = {"messages": messages, "user_id": user_id, "namespace": ns}
    _checked(
        await client.put(f"/v1/working-memory/{session_id}", params={"user_id": user_id}, json=body)
    )


async def ingest(client: httpx.AsyncClient, conversations: Sequence[Conversation], ns: str) -> Json:
    """Write every session in order, one request at a time; the wall time is the ingest time."""
    started = time.perf_counter()
    for conv in conversations:
        for session_id, turns in conv.sessions.items():
            await put_session(client, session_id, turns, conv.user_id, ns)
        progress(f"ingested {conv.sample_id} ({time.perf_counter() - started:.0f} s so far)")
    seconds = time.perf_counter() - started
    count = sum(len(t) for c in conversations for t in c.sessions.values())
    sessions = sum(len(c.sessions) for c in conversations)
    return {
        "seconds": seconds,
        "turns": count,
        "sessions": sessions,
        "turns_per_s": count / seconds,
    }


@dataclass(frozen=True)
class Searcher:
    """Long-term memory search of one user in the run's namespace, timed client-side."""

    client: httpx.AsyncClient
    namespace: str
    is_recency_boosted: bool

    def body(self, text: str, user_id: str, limit: int) -> Json:
        body: Json = {
            "text": text, "limit": limit, "offset": 0,
            "user_id": {"eq": user_id}, "namespace": {"eq": self.namespace},
        }  # fmt: skip
        if not self.is_recency_boosted:
            body["recency_boost"] = False
        return body

    async def search(self, text: str, user_id: str, limit: int) -> tuple[list[Json], int, float]:
        """The results, the server's `total` and the request's latency in ms."""
        started = time.perf_counter()
        response = await self.client.post(
            "/v1/long-term-memory/search", json=self.body(text, user_id, limit)
        )
        latency_ms = (time.perf_counter() - started) * 1000
        found = _checked(response)
        memories: list[Json] = found.get("memories") or []
        return memories, int(found.get("total") or len(memories)), latency_ms


async def count_memories(searcher: Searcher, conversations: Sequence[Conversation]) -> int:
    """Memories the server reports for the run's users (the search's `total`)."""
    total = 0
    for conv in conversations:
        total += (await searcher.search("conversation", conv.user_id, 1))[1]
    return total


async def pending_tasks(searcher: Searcher) -> int | None:
    """Background tasks of the run's namespace still queued or running, when the server lists
    them (mnemo's GET /v1/tasks); None when it does not."""
    waiting = 0
    for state in ("pending", "running"):
        response = await searcher.client.get(
            "/v1/tasks", params={"state": state, "namespace": searcher.namespace, "limit": 1}
        )
        if response.status_code != 200:
            return None
        waiting += int(response.json().get("total") or 0)
    return waiting


async def wait_for_background(
    searcher: Searcher, conversations: Sequence[Conversation], seconds: float, settle: float
) -> Json:
    """Poll until the memory count has not changed for `settle` seconds and no background
    task is left (where the server lists them), or `seconds` pass."""
    if seconds > 0:
        progress(f"waiting up to {seconds:.0f} s for background work to settle")
    started = changed_at = time.monotonic()
    counts: list[int] = []
    while True:
        counts.append(await count_memories(searcher, conversations))
        tasks = await pending_tasks(searcher) if seconds > 0 else None
        now = time.monotonic()
        if len(counts) >= 2 and counts[-1] != counts[-2]:
            changed_at = now
        if (now - changed_at >= settle and not tasks) or now - started >= seconds:
            return {"seconds": now - started, "counts": counts, "tasks_left": tasks}
        await asyncio.sleep(POLL_SECONDS)


def turns_of(memory: Mapping[str, Any], dia_ids: Mapping[str, str]) -> list[str]:
    """Distinct dialog ids a search result stands for: its own id, then its extracted_from."""
    ids = [memory.get("id"), *(memory.get("extracted_from") or [])]
    return list(dict.fromkeys(dia_ids[i] for i in ids if isinstance(i, str) and i in dia_ids))


def scores_of(turns: Sequence[str], evidence: Sequence[str]) -> dict[str, float]:
    values = {f"R@{k}": recall_at_k(turns, evidence, k) for k in RECALL_KS}
    values["NDCG@10"] = ndcg_at_k(turns, evidence, 10)
    values["MRR"] = reciprocal_rank(turns, evidence, SEARCH_LIMIT)
    return values


async def evaluate_question(
    searcher: Searcher, conv: Conversation, question: Question,
    gate: asyncio.Semaphore, dia_ids: Mapping[str, str],
) -> Json:  # fmt: skip
    """Search one question, time the request client-side, score the distinct turns found."""
    async with gate:
        memories, _, latency_ms = await searcher.search(question.text, conv.user_id, SEARCH_LIMIT)
    turns = distinct_turns(turns_of(m, dia_ids) for m in memories)[:SEARCH_LIMIT]
    known = set(dia_ids.values())
    evidence = [e for e in question.evidence if e in known]
    return {
        "conversation": conv.sample_id, "split": conv.split, "index": question.index,
        "category": question.category, "question": question.text,
        "evidence": evidence, "missing_evidence": [e for e in question.evidence if e not in known],
        "retrieved": turns, "results": len(memories), "latency_ms": latency_ms,
        "scores": scores_of(turns, evidence) if evidence else None,
    }  # fmt: skip


async def evaluate(
    searcher: Searcher, conversations: Sequence[Conversation], concurrency: int
) -> tuple[list[Json], float]:
    """Every question with evidence, `concurrency` searches in flight; returns the wall time."""
    gate = asyncio.Semaphore(concurrency)
    jobs = []
    for conv in conversations:
        dia_ids = conv.dia_ids()
        jobs += [
            evaluate_question(searcher, conv, q, gate, dia_ids)
            for q in conv.questions
            if q.evidence
        ]
    progress(f"searching {len(jobs)} questions, {concurrency} at a time")
    started = time.perf_counter()
    records = await asyncio.gather(*jobs)
    return list(records), time.perf_counter() - started


def split_results(records: Sequence[Json], split: str) -> Json:
    """{split: {row: {"n": .., "R@5": .., ...}}} with dev / test / all when split is all."""
    names = ["dev", "test", "all"] if split == "all" else [split]
    results: Json = {}
    for name in names:
        scores = [
            QuestionScore(r["category"], r["scores"])
            for r in records
            if r["scores"] is not None and name in ("all", r["split"])
        ]
        if scores:
            rows = aggregate_by_category(scores)
            results[name] = {row: {"n": s.n, **s.means} for row, s in rows.items()}
    return results


def latency_summary(records: Sequence[Json], wall_seconds: float) -> Json:
    latencies = [float(r["latency_ms"]) for r in records]
    if not latencies:
        return {"requests": 0}
    summary: Json = {f"p{q}_ms": percentile(latencies, q) for q in (50, 95, 99)}
    summary |= {
        "requests": len(latencies), "mean_ms": sum(latencies) / len(latencies),
        "wall_s": wall_seconds, "per_s": len(latencies) / wall_seconds,
    }  # fmt: skip
    return summary


def data_summary(conversations: Sequence[Conversation], records: Sequence[Json]) -> Json:
    questions = [q for c in conversations for q in c.questions]
    missing = [f"{r['conversation']}:{e}" for r in records for e in r["missing_evidence"]]
    return {
        "conversations": [c.sample_id for c in conversations],
        "splits": {c.sample_id: c.split for c in conversations},
        "sessions": sum(len(c.sessions) for c in conversations),
        "turns": sum(len(t) for c in conversations for t in c.sessions.values()),
        "questions": len(questions),
        "questions_scored": sum(1 for r in records if r["scores"] is not None),
        "questions_without_evidence": sum(1 for q in questions if not q.evidence),
        "questions_with_only_missing_evidence": sum(1 for r in records if r["scores"] is None),
        "evidence_ids_not_found": len(missing),
        "evidence_ids_not_found_list": missing,
    }


async def run(args: argparse.Namespace, conversations: Sequence[Conversation]) -> Json:
    """Ingest, optionally wait for background work, search every question, gather the numbers."""
    started_at, started = datetime.now(UTC).isoformat(), time.perf_counter()
    headers = {"X-API-Key": args.api_key}
    limits = httpx.Limits(max_connections=args.concurrency + 1)
    async with httpx.AsyncClient(
        base_url=args.url, headers=headers, timeout=args.timeout, limits=limits
    ) as client:
        health = _checked(await client.get("/v1/health"))
        searcher = Searcher(client, args.namespace, args.recency_boost)
        ingested = await ingest(client, conversations, args.namespace)
        ingested["background"] = await wait_for_background(
            searcher, conversations, args.wait_for_background, args.settle
        )
        records, wall = await evaluate(searcher, conversations, args.concurrency)
        ingested["memories_after_search"] = await count_memories(searcher, conversations)
    return {
        "benchmark": "locomo-evidence-retrieval",
        "settings": settings_of(args) | {"server_health": health, "started_at": started_at},
        "run_seconds": time.perf_counter() - started,
        "data": data_summary(conversations, records),
        "ingest": ingested,
        "search": latency_summary(records, wall),
        "results": split_results(records, args.split),
        "questions": records,
    }


def settings_of(args: argparse.Namespace) -> Json:
    return {
        "url": args.url, "namespace": args.namespace, "split": args.split,
        "conversations_limit": args.conversations, "date_in_text": args.date_in_text,
        "concurrency": args.concurrency, "wait_for_background_s": args.wait_for_background,
        "settle_s": args.settle,
        "recency_boost": "server default" if args.recency_boost else False,
        "search_limit": SEARCH_LIMIT, "recall_ks": list(RECALL_KS), "data": str(args.data),
    }  # fmt: skip


def print_report(report: Json) -> None:
    """One table per split, then ingest and search-latency lines."""
    print_tables(report["results"])
    print_totals(report)


def print_tables(results: Json) -> None:
    """One table per split."""
    console = Console()
    for split, rows in results.items():
        table = Table(title=f"LoCoMo evidence retrieval: {split}", title_justify="left")
        table.add_column("category")
        for column in ("n", *COLUMNS):
            table.add_column(column, justify="right")
        for row in [r for r in ROW_ORDER if r in rows] + [r for r in rows if r not in ROW_ORDER]:
            values = rows[row]
            cells = [f"{values[c]:.3f}" for c in COLUMNS]
            table.add_row(row, str(values["n"]), *cells, end_section=row == "overall")
        console.print(table)


def print_totals(report: Json) -> None:
    """Ingest, search latency and data-quality lines (plain print: no wrapping)."""
    ing, search, data = report["ingest"], report["search"], report["data"]
    print(f"run: {report['run_seconds']:.0f} s against {report['settings']['url']}")
    print(
        f"ingest: {ing['turns']} turns in {ing['sessions']} sessions, {ing['seconds']:.1f} s "
        f"({ing['turns_per_s']:.1f} turns/s); memories visible {ing['background']['counts'][-1]}"
    )
    before, after = ing["background"]["counts"][-1], ing["memories_after_search"]
    if before != after:
        print(
            f"warning: the memory count changed while searching ({before} -> {after}): background"
            " work was still running, so the numbers depend on timing; use --wait-for-background"
        )
    if search["requests"]:
        print(
            f"search: {search['requests']} requests, p50 {search['p50_ms']:.1f} ms, "
            f"p95 {search['p95_ms']:.1f} ms, p99 {search['p99_ms']:.1f} ms "
            f"({search['per_s']:.1f}/s at concurrency {report['settings']['concurrency']})"
        )
    print(
        f"questions: {data['questions_scored']} scored, {data['questions_without_evidence']} "
        f"without evidence, {data['questions_with_only_missing_evidence']} whose evidence is not "
        f"in the data; {data['evidence_ids_not_found']} evidence ids not found among the turns"
    )


def draw_plot(results: Mapping[str, Mapping[str, Mapping[str, float]]], path: Path) -> bool:
    """Grouped bars of R@5/R@10/R@20 per category, one panel per split (dev, test)."""
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]
    except ModuleNotFoundError:
        print("matplotlib is not installed, so no plot was drawn: pip install matplotlib")
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]

    panels = [s for s in ("dev", "test") if s in results] or list(results)
    if not panels:
        return False
    fig, axes = plt.subplots(
        1, len(panels), figsize=(7 * len(panels), 4.5), sharey=True, squeeze=False
    )
    for ax, split in zip(axes[0], panels, strict=True):
        _draw_panel(ax, split, results[split])
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def _draw_panel(ax: Any, split: str, rows: Mapping[str, Mapping[str, float]]) -> None:
    names = [r for r in ROW_ORDER if r in rows]
    width = 0.27
    for offset, k in enumerate(RECALL_KS):
        xs = [i + (offset - 1) * width for i in range(len(names))]
        bars = ax.bar(xs, [rows[r][f"R@{k}"] for r in names], width, label=f"R@{k}")
        ax.bar_label(bars, fmt="%.2f", fontsize=6)
    labels = [f"{r}\n(n={rows[r]['n']:.0f})" for r in names]
    ax.set_xticks(range(len(names)), labels, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"LoCoMo evidence recall: {split}")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/locomo.py",
        description=__doc__,
        epilog=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_input_options(parser)
    _add_run_options(parser)
    args = parser.parse_args(argv)
    if args.concurrency < 1 or (args.conversations is not None and args.conversations < 1):
        parser.error("--concurrency and --conversations must be at least 1")
    return args


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    default_data = REPO.parent / "shared/bench/locomo10.json"
    add("--data", type=Path, default=default_data, help="locomo10.json, read in place")
    add("--url", default="http://127.0.0.1:8000", help="server base URL")
    add("--api-key", default="dev-key-12345", help="sent as X-API-Key")
    add("--split", choices=("dev", "test", "all"), default="all")
    add("--conversations", type=int, default=None, help="only the first N of the split")
    add(
        "--namespace",
        default=f"locomo-{datetime.now(UTC):%Y%m%d-%H%M%S}",
        help="namespace of the run (default: a fresh locomo-<timestamp>)",
    )
    add(
        "--date-in-text",
        action="store_true",
        help='also prefix each message with its date: "On 8 May 2023, "',
    )


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--concurrency",
        type=int,
        default=1,
        help="searches in flight; 1 measures each search's own latency (more measures "
        "queueing for the cores: on 2 cores, 4 in flight tripled p95)",
    )
    add(
        "--wait-for-background",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="after ingest, poll search until the memory count settles, at most SECONDS",
    )
    add(
        "--settle",
        type=float,
        default=45.0,
        metavar="SECONDS",
        help="the count has settled once unchanged this long, with no task queued or running "
        "where the server lists tasks (mnemo debounces extraction 30 s)",
    )
    add(
        "--recency-boost",
        action="store_true",
        help="leave recency_boost to the server (default: send false; see below)",
    )
    add("--timeout", type=float, default=300.0, help="per-request timeout, seconds")
    add("--out", type=Path, default=REPO / "bench/results/locomo.json", help="JSON result")
    add("--plot", default=str(REPO / "bench/results/locomo.png"), help="PNG chart ('' to skip)")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 on success, 1 if the server refused a request, 2 if unreachable."""
    args = parse_args(argv)
    if not args.data.is_file():
        print(f"LoCoMo data not found at {args.data}: pass --data path/to/locomo10.json")
        return 2
    conversations = load_conversations(args.data, args.split, args.conversations, args.date_in_text)
    try:
        report = asyncio.run(run(args, conversations))
    except BenchError as exc:
        print(f"the server refused a request: {exc}")
        return 1
    except httpx.TransportError as exc:
        print(f"cannot talk to {args.url}: {exc!r}")
        return 2
    print_report(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    if args.plot and draw_plot(report["results"], Path(args.plot)):
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
