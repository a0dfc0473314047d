"""A small OpenAI-compatible server over real HTTP, so that the app's OpenAI SDK code path runs.

- POST /v1/chat/completions: streamed (real SSE chunks, a delay per chunk) or not;
- POST /v1/embeddings: deterministic bag-of-words vectors (similar texts, similar vectors);
- POST /v1/moderations: OpenAI's moderation answer; an input is flagged when it holds a marker
  "[flag:<category>]" (e.g. "[flag:self-harm/intent]") or a text of `moderation_flags` (text ->
  category). `moderation`: "ok", "missing" (404, as Ollama), "busy" (503) or "hang";
- a chat request carrying ARIA's classification prompt (nexus/services/aria/classify.py) answers
  one label: the "[label:<LABEL>]" marker of the input, the label of a `moderation_flags` text or
  marker or of a `classification_flags` question (the whole of it), else NONE. `classification`:
  "ok", "hang" or "garbage" (a sentence naming labels, not one label); these requests go to
  `classification_inputs` and `classification_requests`, not `chat_requests`;
- GET /v1/models.

Modes: "ok", "busy" (503 with Retry-After), "hang" (accepts, never answers), "hostile" (answers
with HTML, scripts, hx-* attributes and javascript: links). With `context_tokens` set, a prompt
that does not fit (counted at `chars_per_token`, French on llama.cpp is 2.3-2.7) is refused as
llama.cpp's server does: HTTP 400 with an `exceed_context_size_error`. `report_usage=False`: no
token counts, streamed or not (as many servers do when streaming). `open_streams` counts the chat
requests in progress: a client that goes away is noticed at once (the socket turns readable
with EOF) and the count drops.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from tests.fakes import FakeServer
from tests.servers import free_port

DEFAULT_REPLY = (
    "Pour une suite arithmétique, la somme de termes consécutifs vaut le nombre de termes "
    "multiplié par la moyenne du premier et du dernier terme [1]. Essayez d'abord de compter "
    "les termes : combien y en a-t-il de u₀ à u₂₀ ?"
)
HOSTILE_REPLY = (
    "Voici **la réponse**.\n\n<script>alert('xss')</script>\n\n"
    '<img src=x onerror="alert(1)">\n\n'
    '<div hx-post="/dashboard/assistante/paiements/1/valider" hx-trigger="load">piège</div>\n\n'
    "[cliquez ici](javascript:alert(1)) et [une source](https://example.org/cours) [1]"
)
MODEL = "fake-llm"
# The first words of ARIA's classification prompt (nexus/services/aria/classify.py PROMPT).
CLASSIFICATION_PROMPT = "Tu es le filtre de sécurité d'un tuteur scolaire"
LABEL_OF = {
    "self-harm": "SELF_HARM", "self-harm/intent": "SELF_HARM", "self-harm/instructions": "SELF_HARM",
    "harassment": "HARASSMENT", "harassment/threatening": "HARASSMENT", "violence": "HARASSMENT",
    "sexual/minors": "DISTRESS",
}  # fmt: skip


def words(content: str) -> list[str]:
    return re.findall(r"\w+", content.lower())


def embed(content: str, dim: int) -> list[float]:
    """A hashed bag of words, L2-normalised: texts sharing words are close."""
    vector = np.zeros(dim, dtype=np.float32)
    for word in words(content):
        digest = hashlib.sha256(word.encode()).digest()
        vector[int.from_bytes(digest[:4], "little") % dim] += 1.0 if digest[4] % 2 else -1.0
    norm = float(np.linalg.norm(vector)) or 1.0
    return (vector / norm).tolist()


@dataclass
class FakeLLM:
    port: int = field(default_factory=free_port)
    mode: str = "ok"
    reply: str = DEFAULT_REPLY
    chunk_delay: float = 0.01
    first_token_delay: float = 0.0
    embedding_dim: int = 64
    embeddings_down: bool = False
    context_tokens: int | None = None
    chars_per_token: float = 2.5
    report_usage: bool = True
    chat_requests: list[dict[str, Any]] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)  # prompt tokens of each refused request
    embedding_requests: int = 0
    embedding_inputs: list[str] = field(default_factory=list)
    moderation: str = "ok"
    moderation_flags: dict[str, str] = field(default_factory=dict)
    moderation_inputs: list[str] = field(default_factory=list)
    classification: str = "ok"
    classification_inputs: list[str] = field(default_factory=list)
    classification_requests: list[dict[str, Any]] = field(default_factory=list)
    classification_flags: dict[str, str] = field(default_factory=dict)  # text -> label
    first_token_latency: list[float] = field(default_factory=list)  # request received -> first chunk sent
    _open: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def open_streams(self) -> int:
        with self._lock:
            return self._open

    def reset(self) -> None:
        self._release.set()  # free any hanging handler of the previous test
        self.mode, self.reply = "ok", DEFAULT_REPLY
        self.chunk_delay, self.first_token_delay = 0.01, 0.0
        self.embeddings_down = False
        self.context_tokens, self.chars_per_token, self.report_usage = None, 2.5, True
        self.chat_requests.clear()
        self.refused.clear()
        self.first_token_latency.clear()
        self.embedding_requests = 0
        self.embedding_inputs.clear()
        self.moderation = "ok"
        self.moderation_flags.clear()
        self.moderation_inputs.clear()
        self.classification = "ok"
        self.classification_inputs.clear()
        self.classification_requests.clear()
        self.classification_flags.clear()
        self._release = threading.Event()

    def wait_until_idle(self, timeout: float = 3.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.open_streams == 0:
                return True
            time.sleep(0.02)
        return self.open_streams == 0

    def wait_for_streams(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.open_streams < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def _track(self, delta: int) -> None:
        with self._lock:
            self._open += delta

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    return self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
                self.send_error(404)
                return None

            def do_POST(self) -> None:
                body = self._body()
                if self.path.endswith("/embeddings"):
                    return fake._embeddings(self, body)
                if self.path.endswith("/moderations"):
                    return fake._moderations(self, body)
                if self.path.endswith("/chat/completions"):
                    fake._track(+1)
                    try:
                        fake._chat(self, body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the client went away
                    finally:
                        fake._track(-1)
                    return None
                self.send_error(404)
                return None

        self._server = FakeServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- chat -------------------------------------------------------------------------------------

    def _client_gone(self, handler: BaseHTTPRequestHandler, wait: float) -> bool:
        """Wait up to `wait` s; True as soon as the client has closed its side."""
        conn: socket.socket = handler.connection
        readable, _, _ = select.select([conn], [], [], wait)
        if not readable:
            return False
        try:
            return conn.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _chat(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        received = time.monotonic()
        messages = body.get("messages") or [{}]
        if str(messages[0].get("content") or "").startswith(CLASSIFICATION_PROMPT):
            self.classification_requests.append(body)
            self._classify(handler, str(messages[-1].get("content") or ""))
            return
        self.chat_requests.append(body)
        if self.mode == "busy":
            handler._json(503, {"error": {"message": "server busy"}}, {"Retry-After": "30"})  # type: ignore[attr-defined]
            return
        if self.context_tokens is not None:
            n_prompt = self.prompt_tokens(body)
            if n_prompt >= self.context_tokens:
                self.refused.append(n_prompt)
                handler._json(400, self._context_error(n_prompt))  # type: ignore[attr-defined]
                return
        if self.mode == "hang":
            release = self._release
            while not release.is_set() and not self._client_gone(handler, 0.05):
                pass
            return
        reply = HOSTILE_REPLY if self.mode == "hostile" else self.reply
        if not body.get("stream"):
            if self._client_gone(handler, self.first_token_delay):
                return
            handler._json(200, self._completion(reply))  # type: ignore[attr-defined]
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()
        if self._client_gone(handler, self.first_token_delay):
            return
        for n, piece in enumerate(re.findall(r"\S+\s*|\s+", reply)):
            handler.wfile.write(self._event({"choices": [{"index": 0, "delta": {"content": piece}}]}))
            if n == 0:
                self.first_token_latency.append(time.monotonic() - received)
            if self._client_gone(handler, self.chunk_delay):
                return
        handler.wfile.write(self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
        if self.report_usage and (body.get("stream_options") or {}).get("include_usage"):
            handler.wfile.write(self._event({"choices": [], "usage": self._usage(reply)}))
        handler.wfile.write(b"data: [DONE]\n\n")

    def prompt_tokens(self, body: dict[str, Any]) -> int:
        """The prompt's size as the model would count it: its text, plus a few tokens a message."""
        messages = body.get("messages") or []
        text = sum(len(str(m.get("content") or "")) for m in messages)
        return int(text / self.chars_per_token) + 4 * len(messages)

    def _context_error(self, n_prompt: int) -> dict[str, Any]:
        """llama.cpp's answer (tools/server: format_error_response, ERROR_TYPE_EXCEED_CONTEXT_SIZE)."""
        return {
            "error": {
                "code": 400,
                "message": "the request exceeds the available context size, try increasing it",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": n_prompt,
                "n_ctx": self.context_tokens,
            }
        }

    @staticmethod
    def _event(payload: dict[str, Any]) -> bytes:
        chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": MODEL}
        return f"data: {json.dumps({**chunk, **payload})}\n\n".encode()

    @staticmethod
    def _usage(reply: str) -> dict[str, int]:
        return {
            "prompt_tokens": 321,
            "completion_tokens": len(words(reply)),
            "total_tokens": 321 + len(words(reply)),
        }

    def _completion(self, reply: str) -> dict[str, Any]:
        completion = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": MODEL,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
            ],
            "usage": self._usage(reply),
        }
        if not self.report_usage:
            del completion["usage"]
        return completion

    # -- moderation -------------------------------------------------------------------------------

    def _classify(self, handler: BaseHTTPRequestHandler, text: str) -> None:
        """ARIA's classification prompt: one label, as a careful small model would answer."""
        self.classification_inputs.append(text)
        if self.classification == "hang":
            release = self._release
            while not release.is_set() and not self._client_gone(handler, 0.05):
                pass
            return
        flagged = re.findall(r"\[flag:([a-z/-]+)\]", text)
        flagged += [category for marker, category in self.moderation_flags.items() if marker in text]
        labels = re.findall(r"\[label:([A-Z_]+)\]", text) + [LABEL_OF[c] for c in flagged if c in LABEL_OF]
        question = text.removeprefix("<message>").removesuffix("</message>")
        labels += [self.classification_flags[question]] if question in self.classification_flags else []
        reply = labels[0] if labels else "NONE"
        if self.classification == "garbage":
            reply = "Je pense que c'est DISTRESS ou SELF_HARM, mais je ne suis pas sur."
        handler._json(200, self._completion(reply))  # type: ignore[attr-defined]

    MODERATION_CATEGORIES = (
        "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
        "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence",
        "violence/graphic",
    )  # fmt: skip

    def _moderations(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else [str(t) for t in texts or []]
        self.moderation_inputs.extend(texts)
        if self.moderation == "missing":
            handler.send_error(404)
            return
        if self.moderation == "busy":
            handler._json(503, {"error": {"message": "server busy"}})  # type: ignore[attr-defined]
            return
        if self.moderation == "hang":
            release = self._release
            while not release.is_set() and not self._client_gone(handler, 0.05):
                pass
            return
        results = []
        for text in texts:
            flagged = set(re.findall(r"\[flag:([a-z/-]+)\]", text))
            flagged |= {category for marker, category in self.moderation_flags.items() if marker in text}
            categories = {name: name in flagged for name in self.MODERATION_CATEGORIES}
            scores = {name: 0.99 if on else 0.001 for name, on in categories.items()}
            results.append({"flagged": bool(flagged), "categories": categories, "category_scores": scores})
        model = body.get("model") or "omni-moderation-latest"
        payload = {"id": "modr-fake", "model": model, "results": results}
        handler._json(200, payload)  # type: ignore[attr-defined]

    # -- embeddings -------------------------------------------------------------------------------

    def _embeddings(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        self.embedding_requests += 1
        if self.embeddings_down:
            handler._json(503, {"error": {"message": "embeddings unavailable"}})  # type: ignore[attr-defined]
            return
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else list(texts or [])
        self.embedding_inputs.extend(str(t) for t in texts)
        data = []
        for index, content in enumerate(texts):
            vector = embed(str(content), self.embedding_dim)
            if body.get("encoding_format") == "base64":
                encoded: Any = base64.b64encode(np.asarray(vector, dtype=np.float32).tobytes()).decode()
            else:
                encoded = vector
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        usage = {"prompt_tokens": 1, "total_tokens": 1}
        handler._json(200, {"object": "list", "data": data, "model": body.get("model"), "usage": usage})  # type: ignore[attr-defined]
