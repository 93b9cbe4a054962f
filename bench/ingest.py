"""Ingest throughput and latency of the control plane: run records and OTLP spans over HTTP.

What it measures (one invocation, every number next to a baseline taken in the same
invocation, on the same database):

1. **events via the API**: ``POST /api/agents/{agent}/events`` with batches of runs, one
   run = ``RunRecorded`` (running) + 3 ``ToolCallRecorded`` (each with its policy decision)
   + ``RunRecorded`` (resolved), what a remote SDK's recorder sends. Runs/s and latency per
   request. **Baseline**: the same events applied with ``store.apply`` in this process (no
   HTTP, no JSON, no auth, no validation).
2. **OTLP via the API**: ``POST /v1/traces`` with ``application/x-protobuf`` bodies encoded
   by the OpenTelemetry SDK's own encoder from spans recorded by the SDK (GenAI semantic
   conventions: one ``invoke_agent``, one ``chat``, 3 ``execute_tool`` spans per trace;
   100 spans = 20 traces per request by default). Spans/s and latency per request.
   **Baselines**: ``decode_request`` + ``map_request`` + ``store.apply`` in this process
   (no HTTP), and ``decode_request`` + ``map_request`` alone (no database).

The server is ``create_app(store)`` on uvicorn, configured as ``warden serve`` runs it
(one process, ``log_level="info"``, token auth on), in a **separate process** on
127.0.0.1 and a free port, so that the client does not share its GIL. The client is
``httpx`` with keep-alive; request bodies are built before the clock starts. Latency is
``time.perf_counter_ns()`` around one request (client-side, so it includes the loopback
round trip); throughput is requests sent / wall time of the loop. ``--concurrency N`` runs
N client threads, each with its own connection.

Usage::

    python bench/ingest.py                       # temporary SQLite file
    python bench/ingest.py --postgres-server postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python bench/ingest.py --concurrency 4 --json
    python bench/ingest.py --profile             # cProfile of the server, top functions

``--postgres-server`` runs in a database of the benchmark's own, ``warden_bench_<pid>``,
created on that server and dropped at the end (``bench/_database.py``). The database is
migrated automatically; the benchmark adds rows (agents ``bench-ingest`` and
``bench-otlp``, ids unique per invocation) and deletes nothing (a ``--database-url``
database keeps them).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import logging
import os
import pstats
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _database  # bench/ is on sys.path when a script runs
import httpx
import sqlalchemy as sa
from _machine import machine  # bench/ is on sys.path when a script runs
from _stats import percentile
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import TypeAdapter

from warden.control.fleet import latest_spec
from warden.control.scope import apply_spec
from warden.core.clock import SystemClock
from warden.core.decisions import Decision, Verdict
from warden.core.events import Event, RunRecorded, ToolCallRecorded
from warden.core.runs import RunRecord, RunStatus, ToolCallRecord, ToolCallStatus
from warden.core.spec import AgentSpec
from warden.core.tokens import ApiToken, Role, hash_token, new_token
from warden.store import SqlStore
from warden.store import tables as t
from warden.telemetry.otlp_ingest import decode_request, map_request

TARGET_SPANS_PER_S = 2_000.0
"""Issue target: at least this many OTLP spans ingested per second (PostgreSQL)."""
TARGET_P99_MS = 100.0
"""Issue target: p99 latency of one OTLP ingest request below this (PostgreSQL)."""

EVENTS_AGENT = "bench-ingest"
OTLP_AGENT = "bench-otlp"
TOOLS = ("search_kb", "lookup_customer", "route_ticket")
SPANS_PER_TRACE = 5  # invoke_agent, chat, 3 x execute_tool

_EVENTS = TypeAdapter(list[Event])


# -- statistics --------------------------------------------------------------------------


def summarize_ns(samples_ns: Sequence[int]) -> dict[str, float]:
    """p50, p90, p99, max and mean of ``samples_ns``, in milliseconds."""
    s = sorted(samples_ns)
    return {
        "n": len(s),
        "p50_ms": percentile(s, 50) / 1e6,
        "p90_ms": percentile(s, 90) / 1e6,
        "p99_ms": percentile(s, 99) / 1e6,
        "max_ms": s[-1] / 1e6 if s else float("nan"),
        "mean_ms": statistics.fmean(s) / 1e6 if s else float("nan"),
    }


# -- the workload ------------------------------------------------------------------------


def spec(name: str) -> AgentSpec:
    """A spec for the bench agents: three tools, one of them a write with an enum."""
    return AgentSpec.model_validate(
        {
            "apiVersion": "warden/v1",
            "kind": "Agent",
            "metadata": {
                "name": name,
                "version": "1.0.0",
                "owner": "bench@example.com",
                "backup_owner": "bench-backup@example.com",
                "runbook": "docs/runbook.md",
            },
            "spec": {
                "scope": "Benchmark agent: answers support tickets.",
                "tools": {
                    "search_kb": {"access": "read", "untrusted_output": True},
                    "lookup_customer": {"access": "read"},
                    "route_ticket": {
                        "access": "write",
                        "idempotent": True,
                        "arguments": {"queue": {"enum": ["cards", "refunds"]}},
                    },
                },
                "escalation": {"queue": "tier1-humans"},
            },
        }
    )


_ALLOW = Decision(verdict=Verdict.ALLOW, rule="access", reason="route_ticket is a write tool.")


def run_events(run_id: str, spec_hash: str, at: datetime) -> list[Event]:
    """One run as a remote SDK records it: started, 3 tool calls, resolved."""
    run = RunRecord(
        id=run_id,
        agent=EVENTS_AGENT,
        spec_hash=spec_hash,
        spec_version="1.0.0",
        routing_key=f"cust-{run_id[-4:]}",
        input={"ticket": run_id, "text": "My new card has not arrived yet."},
        started_at=at,
        heartbeat_at=at,
        host="bench",
        pid=os.getpid(),
    )
    events: list[Event] = [RunRecorded(run=run)]
    for seq, (tool, args) in enumerate(
        [
            ("search_kb", {"q": "card delivery time"}),
            ("lookup_customer", {"customer_id": f"c-{run_id[-4:]}"}),
            ("route_ticket", {"ticket_id": run_id, "queue": "cards"}),
        ],
        start=1,
    ):
        events.append(
            ToolCallRecorded(
                call=ToolCallRecord(
                    run_id=run_id,
                    seq=seq,
                    tool=tool,
                    arguments=args,
                    args_hash=f"{seq:064x}",
                    status=ToolCallStatus.SUCCEEDED,
                    decision=_ALLOW,
                    attempts=1,
                    result={"ok": True, "seq": seq},
                    started_at=at,
                    ended_at=at + timedelta(milliseconds=20),
                    latency_s=0.02,
                )
            )
        )
    done = run.model_copy(
        update={
            "status": RunStatus.RESOLVED,
            "output": {"queue": "cards"},
            "reason": "Routed to cards.",
            "ended_at": at + timedelta(milliseconds=90),
            "steps": 3,
            "tool_calls": 3,
            "latency_s": 0.09,
        }
    )
    events.append(RunRecorded(run=done))
    return events


def event_batches(
    prefix: str, runs: int, per_batch: int, spec_hash: str
) -> list[tuple[list[Event], bytes]]:
    """``runs`` runs in batches, each batch with its JSON request body.

    Args:
        prefix: Run id prefix (unique per invocation and measurement).
        runs: How many runs.
        per_batch: Runs per batch (one request each).
        spec_hash: The spec hash the runs name.

    Returns:
        ``(events, body)`` per batch; ``body`` is what the SDK's recorder would POST.
    """
    now = datetime.now(UTC)
    batches: list[tuple[list[Event], bytes]] = []
    for start in range(0, runs, per_batch):
        events: list[Event] = []
        for i in range(start, min(runs, start + per_batch)):
            events += run_events(f"{prefix}-{i:06d}", spec_hash, now)
        batches.append((events, _EVENTS.dump_json(events)))
    return batches


def otel_spans(traces: int) -> list[ReadableSpan]:
    """Agent runs recorded by the OpenTelemetry SDK, 5 GenAI spans each.

    Args:
        traces: How many runs (traces) to record.

    Returns:
        The finished spans, as an exporter receives them.
    """
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench-agent")
    for i in range(traces):
        with tracer.start_as_current_span("invoke_agent support-bot") as root:
            root.set_attributes(
                {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": OTLP_AGENT,
                    "gen_ai.conversation.id": f"conv-{i}",
                    "gen_ai.input.messages": json.dumps(
                        [{"role": "user", "parts": [{"type": "text", "content": f"ticket {i}"}]}]
                    ),
                }
            )
            with tracer.start_as_current_span("chat gpt-4o-mini") as chat:
                chat.set_attributes(
                    {
                        "gen_ai.operation.name": "chat",
                        "gen_ai.request.model": "gpt-4o-mini",
                        "gen_ai.provider.name": "openai",
                        "gen_ai.usage.input_tokens": 420,
                        "gen_ai.usage.output_tokens": 31,
                    }
                )
            for tool, args, result in [
                ("search_kb", {"q": "card delivery"}, "Cards arrive in 5 days."),
                ("lookup_customer", {"customer_id": f"c-{i}"}, '{"tier": "gold"}'),
                ("route_ticket", {"ticket_id": f"t-{i}", "queue": "cards"}, "routed"),
            ]:
                with tracer.start_as_current_span(f"execute_tool {tool}") as span:
                    span.set_attributes(
                        {
                            "gen_ai.operation.name": "execute_tool",
                            "gen_ai.tool.name": tool,
                            "gen_ai.tool.call.arguments": json.dumps(args),
                            "gen_ai.tool.call.result": result,
                        }
                    )
    provider.shutdown()
    return list(exporter.get_finished_spans())


def otlp_bodies(traces: int, spans_per_request: int) -> list[tuple[bytes, int]]:
    """Protobuf export bodies, encoded by the SDK's OTLP encoder.

    Args:
        traces: How many traces to record in all.
        spans_per_request: Spans per body, rounded down to whole traces.

    Returns:
        ``(body, spans in it)`` per request.
    """
    spans = otel_spans(traces)
    by_trace: dict[int, list[ReadableSpan]] = {}
    for s in spans:
        assert s.context is not None
        by_trace.setdefault(s.context.trace_id, []).append(s)
    per_request = max(1, spans_per_request // SPANS_PER_TRACE)
    groups = list(by_trace.values())
    bodies: list[tuple[bytes, int]] = []
    for start in range(0, len(groups), per_request):
        chunk = [s for g in groups[start : start + per_request] for s in g]
        bodies.append((encode_spans(chunk).SerializeToString(), len(chunk)))
    return bodies


# -- the server --------------------------------------------------------------------------


def serve(url: str, port_file: str, profile_out: str | None, gc_freeze: bool = False) -> None:
    """The server process: ``create_app`` on uvicorn on a free loopback port.

    Args:
        url: The store's SQLAlchemy URL.
        port_file: Where to write the port once bound.
        profile_out: Where to write cProfile statistics on exit (None: no profiling).
        gc_freeze: ``gc.freeze()`` after start-up (an experiment).

    Writes the port to ``port_file`` when bound; stops on SIGINT/SIGTERM; then writes its
    garbage-collector pauses to ``port_file + ".gc.json"``. With ``profile_out``, every
    thread that runs Python (the event loop and the worker threads of sync endpoints) is
    profiled with cProfile and the merged statistics are written there on exit. With
    ``gc_freeze`` (an experiment, not what ``warden serve`` does), the objects alive after
    start-up are moved out of the collector's reach (``gc.freeze()``).
    """
    import uvicorn

    from warden.server import create_app

    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    began = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append(time.perf_counter() - began[0])

    gc.callbacks.append(on_gc)

    profilers: list[cProfile.Profile] = []
    if profile_out:

        def start_thread_profiler(*_: Any) -> None:
            sys.setprofile(None)
            p = cProfile.Profile()
            profilers.append(p)
            p.enable()

        threading.setprofile(start_thread_profiler)
        main_profiler = cProfile.Profile()
        profilers.append(main_profiler)
        main_profiler.enable()
    store = SqlStore(url)
    app = create_app(store)
    if gc_freeze:
        app.openapi()
        gc.collect()
        gc.freeze()
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto is TCP
    # (with proto 0 every response waits ~40 ms for the client's delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    Path(port_file).write_text(str(sock.getsockname()[1]))
    # As `warden serve` runs it: uvicorn defaults, log level info (access log on).
    server = uvicorn.Server(uvicorn.Config(app, log_level="info"))
    try:
        server.run(sockets=[sock])
    finally:
        store.close()
        Path(port_file + ".gc.json").write_text(
            json.dumps(
                {
                    str(gen): {
                        "collections": len(p),
                        "total_ms": 1e3 * sum(p),
                        "max_ms": 1e3 * max(p, default=0.0),
                        "over_10ms": sum(x > 0.01 for x in p),
                    }
                    for gen, p in pauses.items()
                }
            )
        )
        if profile_out:
            stats: pstats.Stats | None = None
            for p in profilers:
                with contextlib.suppress(Exception):
                    p.disable()
                    p.create_stats()
                    if stats is None:
                        stats = pstats.Stats(p)
                    else:
                        stats.add(p)
            if stats is not None:
                stats.dump_stats(profile_out)


@dataclass
class Server:
    """A running server process, its base URL, and where it writes its GC pauses."""

    process: subprocess.Popen[Any]
    base_url: str
    gc_file: Path

    def gc_pauses(self) -> dict[str, Any]:
        """The server's garbage-collector pauses per generation (after ``stop``)."""
        with contextlib.suppress(OSError, ValueError):
            return json.loads(self.gc_file.read_text())
        return {}

    def stop(self) -> None:
        """SIGINT (uvicorn's graceful shutdown), then wait."""
        self.process.send_signal(2)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(url: str, profile_out: str | None, log: Path, gc_freeze: bool = False) -> Server:
    """Start ``serve`` in a new Python process and wait until ``/healthz`` answers.

    Args:
        url: The store's SQLAlchemy URL.
        profile_out: Passed to ``serve``.
        log: The server's stdout and stderr (uvicorn's access log).
        gc_freeze: Passed to ``serve``.

    Raises:
        SystemExit: The server did not become healthy within 60 s.
    """
    port_file = log.with_suffix(".port")
    cmd = [
        sys.executable,
        __file__,
        "--serve",
        "--database-url",
        url,
        "--port-file",
        str(port_file),
    ]
    if profile_out:
        cmd += ["--profile-out", profile_out]
    if gc_freeze:
        cmd += ["--server-gc-freeze"]
    # The access log goes to a file: a pipe nobody reads fills up and blocks the server.
    with log.open("w") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if port_file.exists() and port_file.read_text():
            base = f"http://127.0.0.1:{int(port_file.read_text())}"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    return Server(proc, base, Path(f"{port_file}.gc.json"))
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"server did not start; see {log}:\n{log.read_text()[-2000:]}")


# -- the measurements --------------------------------------------------------------------


def post_all(
    base_url: str,
    path: str,
    bodies: Sequence[bytes],
    headers: dict[str, str],
    concurrency: int,
    check: Callable[[httpx.Response], None],
    interval_s: float | None = None,
) -> tuple[list[int], float]:
    """POST every body, split across ``concurrency`` client threads.

    Args:
        base_url: The server.
        path: The endpoint.
        bodies: Request bodies, in the order they are due.
        headers: Sent with every request.
        concurrency: Client threads, each with its own keep-alive connection.
        check: Called with every response; raises to stop the measurement.
        interval_s: Seconds between due times (open loop), or None (closed loop).

    Returns:
        Latency of every request in ns, and the wall time in seconds.

    Closed loop by default: each thread sends its next request when the last one returned.
    With ``interval_s``, open loop: request ``i`` is due at ``start + i * interval_s`` (a
    fixed offered rate), and its latency counts from when it was due, so a server that falls
    behind is charged for the queueing (no coordinated omission).
    """
    chunks = [list(enumerate(bodies))[i::concurrency] for i in range(concurrency)]
    latencies: list[list[int]] = [[] for _ in chunks]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(chunks) + 1)
    start_ns = [0]

    def worker(k: int) -> None:
        clock = time.perf_counter_ns
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
            client.get("/healthz")  # open the connection before the clock starts
            barrier.wait()
            try:
                for i, body in chunks[k]:
                    t0 = clock()
                    if interval_s is not None:
                        due = start_ns[0] + int(i * interval_s * 1e9)
                        if due > t0:
                            time.sleep((due - t0) / 1e9)
                        t0 = due
                    response = client.post(path, content=body)
                    latencies[k].append(clock() - t0)
                    check(response)
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(chunks))]
    for th in threads:
        th.start()
    start_ns[0] = time.perf_counter_ns() + 10_000_000  # 10 ms for the threads to wake
    barrier.wait()
    for th in threads:
        th.join()
    wall = (time.perf_counter_ns() - start_ns[0]) / 1e9
    if errors:
        raise errors[0]
    return [x for lat in latencies for x in lat], wall


def _ok_events(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise SystemExit(f"events: {response.status_code} {response.text[:300]}")


def _ok_traces(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise SystemExit(f"traces: {response.status_code} {response.text[:300]}")
    parsed = ExportTraceServiceResponse()
    parsed.ParseFromString(response.content)
    if parsed.partial_success.rejected_spans:
        raise SystemExit(f"traces: spans rejected: {parsed.partial_success.error_message}")


def bench_events_api(
    server: Server, token: str, batches: list[tuple[list[Event], bytes]], runs_per: int, conc: int
) -> dict[str, Any]:
    """Runs/s and latency per request of ``POST /api/agents/{agent}/events``.

    Args:
        server: The running server.
        token: A reviewer token's secret.
        batches: From ``event_batches``.
        runs_per: Runs per request (for the report).
        conc: Client connections.
    """
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bodies = [b for _, b in batches]
    lat, wall = post_all(
        server.base_url, f"/api/agents/{EVENTS_AGENT}/events", bodies, headers, conc, _ok_events
    )
    runs = sum(len(e) for e, _ in batches) // 5
    return summarize_ns(lat) | {
        "requests": len(bodies),
        "runs": runs,
        "runs_per_request": runs_per,
        "runs_per_s": runs / wall,
        "requests_per_s": len(bodies) / wall,
        "wall_s": wall,
        "body_bytes": statistics.fmean(len(b) for b in bodies),
    }


def bench_events_direct(
    store: SqlStore, batches: list[tuple[list[Event], bytes]]
) -> dict[str, Any]:
    """Baseline: the same batches applied with ``store.apply`` in this process."""
    clock = time.perf_counter_ns
    lat: list[int] = []
    start = clock()
    for events, _ in batches:
        t0 = clock()
        store.apply(events)
        lat.append(clock() - t0)
    wall = (clock() - start) / 1e9
    runs = sum(len(e) for e, _ in batches) // 5
    return summarize_ns(lat) | {"requests": len(batches), "runs": runs, "runs_per_s": runs / wall}


def bench_otlp_api(
    server: Server,
    token: str,
    bodies: list[tuple[bytes, int]],
    conc: int,
    rate: float | None = None,
) -> dict[str, Any]:
    """Spans/s and latency per request of ``POST /v1/traces`` (protobuf).

    Args:
        server: The running server.
        token: A reviewer token's secret.
        bodies: From ``otlp_bodies``.
        conc: Client connections.
        rate: Send at this many spans/s (open loop) instead of back to back.
    """
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-protobuf"}
    spans = sum(n for _, n in bodies)
    interval = spans / len(bodies) / rate if rate else None
    lat, wall = post_all(
        server.base_url, "/v1/traces", [b for b, _ in bodies], headers, conc, _ok_traces, interval
    )
    return summarize_ns(lat) | {
        "requests": len(bodies),
        "spans": spans,
        "spans_per_request": spans / len(bodies),
        "spans_per_s": spans / wall,
        "wall_s": wall,
        "body_bytes": statistics.fmean(len(b) for b, _ in bodies),
    }


def bench_otlp_direct(
    store: SqlStore, bodies: list[tuple[bytes, int]], *, apply: bool
) -> dict[str, Any]:
    """Baseline: decode + map (+ ``store.apply``) per body in this process, no HTTP.

    The spec is read from the store per body, as the endpoint does per request.

    Args:
        store: The store.
        bodies: From ``otlp_bodies``.
        apply: Also apply the records to the store.
    """
    clock = time.perf_counter_ns
    lat: list[int] = []
    start = clock()
    for body, _ in bodies:
        t0 = clock()
        cache: dict[str, AgentSpec | None] = {}

        def spec_for(agent: str, cache: dict[str, AgentSpec | None] = cache) -> AgentSpec | None:
            if agent not in cache:
                found = latest_spec(store, agent)
                cache[agent] = found[0] if found else None
            return cache[agent]

        result = map_request(decode_request(body, "application/x-protobuf"), spec_for)
        if result.rejected:
            raise SystemExit(f"direct map rejected spans: {result.problems}")
        if apply:
            store.apply(result.events)
        lat.append(clock() - t0)
    wall = (clock() - start) / 1e9
    spans = sum(n for _, n in bodies)
    return summarize_ns(lat) | {
        "requests": len(bodies),
        "spans": spans,
        "spans_per_s": spans / wall,
    }


def count_rows(store: SqlStore, prefix: str) -> dict[str, int]:
    """Runs and tool calls whose run id starts with ``prefix`` (nothing lost?)."""
    like = f"{prefix}%"
    with store.engine.connect() as conn:
        runs = conn.execute(
            sa.select(sa.func.count()).select_from(t.runs).where(t.runs.c.id.like(like))
        ).scalar_one()
        calls = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.tool_calls)
            .where(t.tool_calls.c.run_id.like(like))
        ).scalar_one()
    return {"runs": int(runs), "tool_calls": int(calls)}


def count_otlp(store: SqlStore) -> int:
    """Runs of ``OTLP_AGENT`` in the store (one per trace)."""
    with store.engine.connect() as conn:
        runs = conn.execute(
            sa.select(sa.func.count()).select_from(t.runs).where(t.runs.c.agent == OTLP_AGENT)
        ).scalar_one()
    return int(runs)


_IDLE = ("'acquire' of '_thread", "'poll' of 'select.epoll'", "threading.py:", "queue.py:")
"""Threads waiting (for work, a lock, the socket): not work."""


def profile_report(path: str, top: int = 25) -> str:
    """The server's profile without idle waits, as text.

    Args:
        path: A ``pstats`` file written by ``serve``.
        top: How many functions to list by own time.

    Returns:
        The top functions by own time, then the cumulative time of the request path's
        main steps, each with its share of the busy time.
    """
    stats: Any = pstats.Stats(path)
    rows: list[tuple[float, float, int, str]] = []
    for (file, line, name), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        label = f"{Path(file).name}:{line}({name})" if line else name
        if not any(idle in label for idle in _IDLE):
            rows.append((tottime, cumtime, ncalls, label))
    busy = sum(r[0] for r in rows)
    buf = io.StringIO()
    buf.write(f"busy time (idle waits removed): {busy:.2f} s\n")
    buf.write(f"{'own s':>8}{'own %':>7}{'cum s':>8}{'calls':>9}  function (by own time)\n")
    for tottime, cumtime, ncalls, label in sorted(rows, reverse=True)[:top]:
        buf.write(
            f"{tottime:>8.3f}{100 * tottime / busy:>6.1f}%{cumtime:>8.3f}{ncalls:>9}  {label}\n"
        )
    steps = (
        "export_traces",
        "write_events",
        "principal",
        "find_token",
        "latest_spec",
        "decode_request",
        "map_request",
        "_map_trace",
        "decide",
        "apply",
        "_upsert",
        "validate_python",
        "serialize_response",
        "run_endpoint_function",
        "solve_dependencies",
    )
    buf.write(f"\n{'cum s':>8}{'cum %':>7}{'calls':>9}  request path step (cumulative)\n")
    for _, cumtime, ncalls, label in sorted(rows, key=lambda r: -r[1]):
        if any(label.endswith(f"({s})") for s in steps):
            buf.write(f"{cumtime:>8.3f}{100 * cumtime / busy:>6.1f}%{ncalls:>9}  {label}\n")
    return buf.getvalue()


# -- the machine -------------------------------------------------------------------------


# -- main --------------------------------------------------------------------------------


def _redact(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


def _setup(store: SqlStore) -> tuple[str, str]:
    """Store the bench agents' spec and a reviewer token; (spec hash, token secret)."""
    clock = SystemClock()
    for name in (EVENTS_AGENT, OTLP_AGENT):
        apply_spec(store, spec(name), actor="bench@example.com", clock=clock)
    token_id, secret = new_token()
    store.create_token(
        ApiToken(
            id=token_id,
            name="bench-ingest",
            role=Role.REVIEWER,
            token_hash=hash_token(secret),
            created_at=clock.now(),
            created_by="bench",
        )
    )
    return spec(EVENTS_AGENT).content_hash(), secret


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``--serve``, be its server process).

    Args:
        argv: Command-line arguments (default ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(
        description="Ingest throughput and latency: run records and OTLP spans over HTTP."
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL of the store (default: a temporary SQLite file, deleted afterwards)",
    )
    _database.add_argument(parser)
    parser.add_argument("--runs", type=int, default=2_000, help="runs per events measurement")
    parser.add_argument(
        "--batch-runs",
        default="1,10",
        help="runs per events request, comma-separated: one measurement each (default 1,10)",
    )
    parser.add_argument("--spans", type=int, default=20_000, help="OTLP spans measured")
    parser.add_argument(
        "--spans-per-request", type=int, default=100, help="OTLP spans per request (whole traces)"
    )
    parser.add_argument("--concurrency", type=int, default=1, help="client threads")
    parser.add_argument(
        "--otlp-rate",
        type=float,
        default=None,
        help="send OTLP at this many spans/s (open loop; latency from each request's due "
        "time) instead of back to back",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the server; print its top functions"
    )
    parser.add_argument(
        "--server-gc-freeze",
        action="store_true",
        help="experiment: gc.freeze() in the server after start-up (not what warden serve does)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document, not text")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--port-file", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    _database.check(parser, args)
    if args.serve:
        serve(args.database_url, args.port_file, args.profile_out, args.server_gc_freeze)
        return 0
    batch_sizes = [int(x) for x in args.batch_runs.split(",") if x.strip()]
    if args.runs < 10 or args.spans < args.spans_per_request or not batch_sizes:
        parser.error("--runs >= 10, --spans >= --spans-per-request, --batch-runs not empty")

    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="warden-bench-ingest-"))
    database = contextlib.ExitStack()  # --postgres-server: the database to drop at the end
    url = database.enter_context(_database.store_url(args, f"sqlite:///{tmp / 'warden.db'}"))
    load_before = [round(x, 2) for x in os.getloadavg()]
    prefix = f"bi{uuid.uuid4().hex[:8]}"
    out: dict[str, Any] = {}
    profile_text = ""
    try:
        store = SqlStore(url)
        spec_hash, token = _setup(store)
        warm_runs = max(20, args.runs // 20)
        # Build every body before any clock starts.
        events: dict[int, dict[str, list[tuple[list[Event], bytes]]]] = {}
        for size in batch_sizes:
            events[size] = {
                name: event_batches(f"{prefix}-{name}{size}", n, size, spec_hash)
                for name, n in (
                    ("warm", warm_runs),
                    ("warm_direct", warm_runs),
                    ("direct", args.runs),
                    ("api", args.runs),
                )
            }
        traces = args.spans // SPANS_PER_TRACE
        warm_traces = max(5 * args.spans_per_request // SPANS_PER_TRACE, traces // 20)
        otlp = {
            "warm": otlp_bodies(warm_traces, args.spans_per_request),
            "direct": otlp_bodies(traces, args.spans_per_request),
            "map": otlp_bodies(traces, args.spans_per_request),
            "api": otlp_bodies(traces, args.spans_per_request),
        }
        otlp_before = count_otlp(store)
        # The bodies (and everything built so far) stay alive for the whole run: freeze them
        # so that the baselines' garbage collections do not scan them on every full pass (the
        # server process has no such heap).
        gc.collect()
        gc.freeze()
        profile_out = str(tmp / "server.prof") if args.profile else None
        server = start_server(url, profile_out, tmp / "server.log", args.server_gc_freeze)
        results: dict[str, Any] = {"events": {}, "otlp": {}}
        try:
            for size in batch_sizes:
                b = events[size]
                bench_events_api(server, token, b["warm"], size, args.concurrency)  # warm-up
                bench_events_direct(store, b["warm_direct"])
                results["events"][size] = {
                    "direct": bench_events_direct(store, b["direct"]),
                    "api": bench_events_api(server, token, b["api"], size, args.concurrency),
                }
            bench_otlp_api(server, token, otlp["warm"], args.concurrency)  # warm-up
            results["otlp"] = {
                "map_only": bench_otlp_direct(store, otlp["map"], apply=False),
                "direct": bench_otlp_direct(store, otlp["direct"], apply=True),
                "api": bench_otlp_api(server, token, otlp["api"], args.concurrency, args.otlp_rate),
            }
        except BaseException:
            log = (tmp / "server.log").read_text(errors="replace").splitlines()
            print("server log (last 30 lines):", *log[-30:], sep="\n", file=sys.stderr)
            raise
        finally:
            server.stop()
        server_gc = server.gc_pauses()
        if profile_out and Path(profile_out).exists():
            profile_text = profile_report(profile_out)
        expected_runs = len(batch_sizes) * 2 * (warm_runs + args.runs)
        found = count_rows(store, prefix)
        found_otlp = count_otlp(store) - otlp_before
        otlp_stored = sum(n for k in ("warm", "direct", "api") for _, n in otlp[k])
        host = machine(
            store, ("fastapi", "starlette", "uvicorn", "httpx", "pydantic", "psycopg", "protobuf")
        )
        host["loadavg_before"] = load_before
        store.close()
        api = results["otlp"]["api"]
        out = {
            "machine": host,
            "config": {
                "database_url": _redact(url),
                "runs": args.runs,
                "batch_runs": batch_sizes,
                "spans": args.spans,
                "spans_per_request": args.spans_per_request,
                "concurrency": args.concurrency,
                "otlp_rate": args.otlp_rate,
                "server": "uvicorn, separate process, log_level=info, token auth"
                + (", gc.freeze() after start-up" if args.server_gc_freeze else ""),
            },
            "events": results["events"],
            "otlp": results["otlp"],
            "server_gc": server_gc,
            "stored": {
                "event_runs": {"expected": expected_runs, "found": found["runs"]},
                "event_tool_calls": {"expected": 3 * expected_runs, "found": found["tool_calls"]},
                "otlp_runs": {
                    "expected": otlp_stored // SPANS_PER_TRACE,
                    "found": found_otlp,
                },
            },
            "targets": {
                "spans_per_s": {
                    "target": f">= {TARGET_SPANS_PER_S:g}",
                    "value": round(api["spans_per_s"], 1),
                    "met": api["spans_per_s"] >= TARGET_SPANS_PER_S,
                },
                "p99_ms": {
                    "target": f"< {TARGET_P99_MS:g}",
                    "value": round(api["p99_ms"], 2),
                    "met": api["p99_ms"] < TARGET_P99_MS,
                },
            },
        }
    finally:
        database.close()
        shutil.rmtree(tmp, ignore_errors=True)

    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        print_report(out)
    if profile_text:
        print("\n-- server profile (cProfile, every thread) --")
        print(profile_text)
    return 0


def print_report(out: dict[str, Any]) -> None:
    """The text report."""
    m, c = out["machine"], out["config"]
    p: Callable[..., None] = print
    p(f"warden ingest benchmark  {m['date']}")
    p(
        f"  machine : {m['nproc']} CPU ({m['cpu']}), {m['ram_gib']} GiB RAM, "
        f"Python {m['python']}, SQLAlchemy {m['sqlalchemy']}"
    )
    p(f"  store   : {m['database']} {m['database_version']}  ({c['database_url']})")
    pace = f"OTLP sent at {c['otlp_rate']:g} spans/s" if c["otlp_rate"] else "back to back"
    p(f"  server  : {c['server']}")
    p(f"  client  : httpx, {c['concurrency']} connection(s), {pace}")
    busy = max(m["loadavg_before"][0], m["loadavg_after"][0]) > 0.5 * (m["nproc"] or 1)
    p(
        f"  load avg: {m['loadavg_before']} before, {m['loadavg_after']} after"
        + ("  (WARNING: other work is using the CPUs; numbers are pessimistic)" if busy else "")
    )
    p()
    head = f"{'':<44}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'rate':>14}"
    p("events (a run = RunRecorded + 3 ToolCallRecorded + RunRecorded)")
    p(head)
    for size, r in out["events"].items():
        for key, label in (
            ("direct", f"store.apply, {size} run(s)/batch (baseline)"),
            ("api", f"POST /events, {size} run(s)/request"),
        ):
            x = r[key]
            p(
                f"  {label:<42}{x['p50_ms']:>9.2f}{x['p90_ms']:>9.2f}{x['p99_ms']:>9.2f}"
                f"{x['max_ms']:>9.2f}{x['runs_per_s']:>9,.0f} runs/s"
            )
    p()
    p(f"OTLP /v1/traces (~{c['spans_per_request']} spans per request, 5 spans per trace)")
    p(head)
    for key, label in (
        ("map_only", "decode + map, no database"),
        ("direct", "decode + map + store.apply (baseline)"),
        ("api", "POST /v1/traces (protobuf)"),
    ):
        x = out["otlp"][key]
        p(
            f"  {label:<42}{x['p50_ms']:>9.2f}{x['p90_ms']:>9.2f}{x['p99_ms']:>9.2f}"
            f"{x['max_ms']:>9.2f}{x['spans_per_s']:>8,.0f} spans/s"
        )
    p()
    g = out["server_gc"]
    if g:
        p(
            "  server GC pauses over the run (gen: collections, total, max, >10 ms): "
            + "; ".join(
                f"{gen}: {v['collections']}, {v['total_ms']:.0f} ms, {v['max_ms']:.1f} ms, "
                f"{v['over_10ms']}"
                for gen, v in g.items()
            )
        )
    s = out["stored"]
    complete = all(v["expected"] == v["found"] for v in s.values())
    p(
        "  records in the store: "
        + ", ".join(f"{k} {v['found']}/{v['expected']}" for k, v in s.items())
        + ("  complete" if complete else "  MISMATCH (lost, or another process deleted rows)")
    )
    p()
    for name, tgt in out["targets"].items():
        verdict = "MET" if tgt["met"] else "NOT MET"
        p(f"target OTLP {name:<12} {tgt['target']:>8}: {tgt['value']:>10}  {verdict}")


if __name__ == "__main__":
    raise SystemExit(main())
