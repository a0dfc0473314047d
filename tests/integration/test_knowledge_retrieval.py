"""Retrieval over the seed corpus with the local model: quality on labelled French questions,
subject and level filters, the HNSW index with iterative scans, and full-text alone."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from nexus.extensions import db
from nexus.models.common import Grade
from nexus.models.knowledge import (
    LOCAL_EMBEDDING_MODEL,
    Document,
    DocumentChunk,
    DocumentStatus,
    SourceType,
    hnsw_index_name,
)
from nexus.services import embeddings, knowledge, vectorstore
from nexus.services.embeddings import EmbeddingUnavailable
from nexus.services.vectorstore import Scope, VectorRow

ALL_LEVELS = knowledge.levels_for(Grade.TERMINALE)

# (subject, question as a student would type it, the document that answers it)
LABELLED = [
    (
        "MATHEMATIQUES",
        "Comment calculer la somme des termes d'une suite arithmétique ?",
        "maths-premiere-suites.md",
    ),
    (
        "MATHEMATIQUES",
        "Une suite géométrique de raison 0,5 est-elle décroissante ?",
        "maths-premiere-suites.md",
    ),
    ("MATHEMATIQUES", "Comment montrer qu'une suite est arithmétique ?", "maths-premiere-suites.md"),
    ("MATHEMATIQUES", "Quelle est la dérivée de x au carré ?", "maths-premiere-derivation.md"),
    (
        "MATHEMATIQUES",
        "Comment trouver l'équation de la tangente en un point ?",
        "maths-premiere-derivation.md",
    ),
    ("MATHEMATIQUES", "Comment dériver un produit de deux fonctions ?", "maths-premiere-derivation.md"),
    (
        "MATHEMATIQUES",
        "Que veut dire la probabilité de B sachant A ?",
        "maths-premiere-probabilites-conditionnelles.md",
    ),
    (
        "MATHEMATIQUES",
        "Comment utiliser la formule des probabilités totales avec un arbre ?",
        "maths-premiere-probabilites-conditionnelles.md",
    ),
    (
        "MATHEMATIQUES",
        "Comment savoir si deux événements sont indépendants ?",
        "maths-premiere-probabilites-conditionnelles.md",
    ),
    ("MATHEMATIQUES", "Quelle est la dérivée de e puissance ax+b ?", "maths-premiere-exponentielle.md"),
    (
        "MATHEMATIQUES",
        "Pourquoi l'exponentielle est-elle toujours positive ?",
        "maths-premiere-exponentielle.md",
    ),
    ("MATHEMATIQUES", "ln(a×b) est égal à quoi ?", "maths-terminale-logarithme.md"),
    ("MATHEMATIQUES", "Comment résoudre ln(x) = 2 ?", "maths-terminale-logarithme.md"),
    (
        "MATHEMATIQUES",
        "Comment rédiger une démonstration par récurrence ?",
        "maths-terminale-recurrence-limites.md",
    ),
    ("MATHEMATIQUES", "C'est quoi le théorème des gendarmes ?", "maths-terminale-recurrence-limites.md"),
    ("NSI", "Qu'est-ce qu'un cas de base dans une fonction récursive ?", "nsi-terminale-recursivite.md"),
    ("NSI", "Pourquoi j'ai une RecursionError en Python ?", "nsi-terminale-recursivite.md"),
    ("NSI", "Quelle est la différence entre une pile et une file ?", "nsi-terminale-listes-piles-files.md"),
    ("NSI", "Comment implémenter une file avec deux piles ?", "nsi-terminale-listes-piles-files.md"),
    ("NSI", "Comment calculer la hauteur d'un arbre binaire ?", "nsi-terminale-arbres-binaires.md"),
    ("NSI", "Dans quel ordre le parcours infixe visite-t-il les nœuds ?", "nsi-terminale-arbres-binaires.md"),
    ("NSI", "Comment faire une jointure entre deux tables en SQL ?", "nsi-terminale-sql.md"),
    ("NSI", "Qu'est-ce qu'une clé étrangère ?", "nsi-terminale-sql.md"),
    ("NSI", "Quelle est la complexité du tri par insertion ?", "nsi-premiere-algorithmes-de-tri.md"),
    ("NSI", "Comment fonctionne le tri par sélection ?", "nsi-premiere-algorithmes-de-tri.md"),
]


def corpus_file(document_id: int) -> str:
    return db.session.get(Document, document_id).storage_path.removeprefix("corpus/")


def test_the_local_model_finds_the_right_document_in_the_top_3(app):
    misses = []
    for subject, question, expected in LABELLED:
        found = knowledge.search(question, Scope(subject, ALL_LEVELS), k=3)
        assert found.vector_store == "pgvector"
        top = [corpus_file(p.document_id) for p in found.passages]
        if expected not in top:
            misses.append((question, top))
    hit_rate = 1 - len(misses) / len(LABELLED)
    assert hit_rate >= 0.9, f"top-3 hit rate {hit_rate:.0%}; misses: {misses}"


def test_a_question_off_the_course_finds_nothing(app):
    for question in ("Quelle est la capitale du Japon ?", "Donne-moi une recette de couscous"):
        assert knowledge.search(question, Scope("MATHEMATIQUES", ALL_LEVELS)).passages == []


def test_passages_stay_within_the_subject_and_the_students_level(app):
    premiere = knowledge.levels_for(Grade.PREMIERE)
    assert premiere == ("SECONDE", "PREMIERE")
    found = knowledge.search("Comment résoudre ln(x) = 2 ?", Scope("MATHEMATIQUES", premiere), k=4)
    assert all(p.level is not Grade.TERMINALE for p in found.passages)  # the logarithm is Terminale
    found = knowledge.search("Comment faire une jointure en SQL ?", Scope("MATHEMATIQUES", ALL_LEVELS), k=4)
    assert all(not corpus_file(p.document_id).startswith("nsi") for p in found.passages)


def test_full_text_answers_alone_when_embeddings_are_down(app, monkeypatch):
    def down(*_args, **_kwargs):
        raise EmbeddingUnavailable("test")

    monkeypatch.setattr(embeddings.LocalEmbedder, "query", down)
    found = knowledge.search("Qu'est-ce qu'une clé étrangère ?", Scope("NSI", ALL_LEVELS), k=3)
    assert found.vector_store is None
    assert corpus_file(found.passages[0].document_id) == "nsi-terminale-sql.md"


def test_reciprocal_rank_fusion_rewards_agreement():
    scores = knowledge.fuse([[1, 2, 3], [3, 1, 4]])
    assert max(scores, key=scores.get) == 1  # first and second beats third and first
    assert scores[3] > scores[2] and scores[4] < scores[2]


def explain(sql: str, params: dict[str, object]) -> str:
    return "\n".join(row[0] for row in db.session.execute(text("EXPLAIN " + sql), params))


def test_the_vector_query_uses_the_models_hnsw_index_unless_the_scope_is_small(app):
    query = vectorstore._literal(embeddings.current().query("somme d'une suite"))
    params = {"query": query, "subject": "MATHEMATIQUES", "levels": list(ALL_LEVELS), "k": 5}
    db.session.execute(text("SET LOCAL enable_seqscan = off"))  # 75 chunks: make the planner act as at scale
    db.session.execute(text("SET LOCAL enable_sort = off"))
    index = hnsw_index_name(LOCAL_EMBEDDING_MODEL)
    assert index in explain(vectorstore.search_sql(LOCAL_EMBEDDING_MODEL, 384, exact=False), params)
    assert index not in explain(vectorstore.search_sql(LOCAL_EMBEDDING_MODEL, 384, exact=True), params)
    assert vectorstore.in_scope(Scope("MATHEMATIQUES", ALL_LEVELS)) < vectorstore.EXACT_LIMIT


@pytest.fixture
def crowd():
    """1,000 synthetic chunks of a scratch model: 990 in SVT, 10 in SES (1 %)."""
    document = Document(
        title="Synthétique",
        subject="SVT",
        level="TERMINALE",
        source_type=SourceType.TEXT,
        filename="x.txt",
        content_hash="f" * 64,
        storage_path="corpus/none",
        status=DocumentStatus.READY,
    )
    db.session.add(document)
    db.session.flush()
    chunks = [
        DocumentChunk(
            document_id=document.id,
            ord=n,
            subject="SES" if n % 100 == 0 else "SVT",
            level="TERMINALE",
            content=f"passage {n}",
        )
        for n in range(1000)
    ]
    db.session.add_all(chunks)
    db.session.flush()
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(1000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = [
        VectorRow(c.id, document.id, str(c.subject), "TERMINALE", v)
        for c, v in zip(chunks, vectors, strict=True)
    ]
    vectorstore.PgVectorStore().add("scratch-model", rows)
    return rng.normal(size=384).astype(np.float32)


def test_iterative_scans_keep_filtered_results_complete(app, crowd, monkeypatch):
    # Force the HNSW index, as at scale (here the planner would rather filter first, then sort).
    monkeypatch.setattr(vectorstore, "EXACT_LIMIT", 0)
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    db.session.execute(text("SET LOCAL enable_sort = off"))
    store = vectorstore.PgVectorStore()
    scope = Scope("SES", ("TERMINALE",))
    assert len(store.search("scratch-model", crowd, scope, 10)) == 10
    db.session.execute(text("SET LOCAL hnsw.iterative_scan = off"))
    db.session.execute(text("SET LOCAL hnsw.ef_search = 40"))
    sql = (
        "SELECT count(*) FROM (SELECT e.chunk_id FROM chunk_embeddings e "
        "JOIN document_chunks c ON c.id = e.chunk_id "
        "WHERE e.model = 'scratch-model' AND c.subject = 'SES' "
        "ORDER BY e.embedding::vector(384) <=> CAST(:q AS vector(384)) LIMIT 10) t"
    )
    without = db.session.scalar(text(sql), {"q": vectorstore._literal(crowd)})
    assert without < 10  # what the filter loses without iterative scans
