"""The chat model behind ARIA: an OpenAI-compatible endpoint (Ollama, vLLM…) through the OpenAI SDK.

Explicit timeouts (the SDK defaults are 600 s and 2 retries) and no retry: a student is waiting
and the fallback (the course passages) is immediate, whereas a retry would double the wait for a
hanging model, or come after a busy Ollama's Retry-After, long after the student moved on. A streamed
answer is read by a helper thread so that the caller can send keep-alive pings while the model
thinks, give up when the first token is late, and stop the upstream call when the student leaves:
closing the generator closes the HTTP response, which the endpoint sees as a disconnect.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0
MAX_TOKENS = 800
TEMPERATURE = 0.3


class LLMUnavailable(Exception):
    """The model could not answer (down, saturated, too slow); `reason` is for the logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ContextExceeded(LLMUnavailable):
    """The server refused the prompt as longer than its context window (llama.cpp, vLLM: HTTP 400)."""


class Ping:
    """Yielded by a stream while no token has arrived for a while: time for a keep-alive."""


PING = Ping()


@dataclass
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class Settings:
    base_url: str
    api_key: str
    model: str
    timeout: float
    context_tokens: int = 4096


@dataclass
class Completion:
    text: str
    model: str
    usage: Usage = field(default_factory=Usage)


def settings() -> Settings | None:
    """The configured endpoint, or None: ARIA then answers in offline mode."""
    config = current_app.config
    if not config.get("OPENAI_BASE_URL"):
        return None
    return Settings(
        base_url=config["OPENAI_BASE_URL"],
        api_key=config.get("OPENAI_API_KEY") or "ollama",
        model=config.get("LLM_MODEL") or "llama3.2",
        timeout=float(config.get("LLM_TIMEOUT") or 30),
        context_tokens=int(config.get("LLM_CONTEXT_TOKENS") or 4096),
    )


@lru_cache(maxsize=8)
def _client(conf: Settings) -> Any:
    """One SDK client (and connection pool) per endpoint; thread-safe."""
    import httpx2
    from openai import OpenAI

    timeout = httpx2.Timeout(conf.timeout, connect=CONNECT_TIMEOUT)
    return OpenAI(base_url=conf.base_url, api_key=conf.api_key, timeout=timeout, max_retries=0)


CONTEXT_TYPES = {"exceed_context_size_error", "context_length_exceeded"}  # llama.cpp, OpenAI
CONTEXT_WORDS = re.compile(r"context.{0,40}(exceed|length|size|too long|maximum)|maximum context", re.I)


def _context_refusal(exc: Exception) -> str | None:
    """What the server said when it refused the prompt as too long for its context, else None.

    llama.cpp: 400 {"error": {"type": "exceed_context_size_error", "n_prompt_tokens": …, "n_ctx": …}};
    vLLM and OpenAI say so in the message or the code.
    """
    body = getattr(exc, "body", None)
    body = body if isinstance(body, dict) else {}
    kinds = {str(getattr(exc, "type", None) or ""), str(getattr(exc, "code", None) or "")}
    message = str(body.get("message") or getattr(exc, "message", "") or exc)
    if not kinds & CONTEXT_TYPES and not CONTEXT_WORDS.search(message):
        return None
    if "n_prompt_tokens" in body and "n_ctx" in body:
        return f"{body['n_prompt_tokens']} prompt tokens > context {body['n_ctx']}"
    return message[:200]


def _unavailable(exc: Exception) -> LLMUnavailable:
    status = getattr(exc, "status_code", None)
    reason = f"{type(exc).__name__}" + (f" {status}" if status else "")
    if status in (None, 400, 413) and (refusal := _context_refusal(exc)):
        return ContextExceeded(f"{reason}: {refusal}")
    return LLMUnavailable(reason)


def complete(conf: Settings, messages: list[dict[str, str]], max_tokens: int = MAX_TOKENS) -> Completion:
    """One answer, not streamed (the form posted without JavaScript waits for it; a bilan's job
    asks for a longer one)."""
    from openai import OpenAIError

    try:
        response = _client(conf).chat.completions.create(
            model=conf.model, messages=messages, max_tokens=max_tokens, temperature=TEMPERATURE
        )
    except OpenAIError as exc:
        raise _unavailable(exc) from exc
    text = (response.choices[0].message.content or "").strip() if response.choices else ""
    if not text:
        raise LLMUnavailable("empty answer")
    usage = response.usage
    return Completion(
        text=text,
        model=response.model or conf.model,
        usage=Usage(usage.prompt_tokens, usage.completion_tokens) if usage else Usage(),
    )


class _Reader(threading.Thread):
    """Reads the upstream stream into a queue; stops and closes it when asked to."""

    def __init__(self, conf: Settings, messages: list[dict[str, str]]) -> None:
        super().__init__(name="aria-llm-stream", daemon=True)
        self.conf = conf
        self.messages = messages
        self.items: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.cancelled = threading.Event()
        self.usage = Usage()

    def run(self) -> None:
        from openai import OpenAIError

        try:
            stream = _client(self.conf).chat.completions.create(
                model=self.conf.model,
                messages=self.messages,
                max_tokens=MAX_TOKENS,
                temperature=TEMPERATURE,
                stream=True,
                stream_options={"include_usage": True},
            )
        except OpenAIError as exc:
            self.items.put(("error", _unavailable(exc)))
            return
        try:
            self._pump(stream)
        except OpenAIError as exc:
            self.items.put(("error", _unavailable(exc)))
        except Exception as exc:  # a broken connection mid-stream is an outage, not a bug here
            self.items.put(("error", LLMUnavailable(type(exc).__name__)))
        finally:
            stream.close()  # releases (closes) the upstream connection, finished or not

    def _pump(self, stream: Any) -> None:
        for chunk in stream:
            if self.cancelled.is_set():
                return
            if getattr(chunk, "usage", None):
                self.usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            for choice in chunk.choices or []:
                text = getattr(choice.delta, "content", None)
                if text:
                    self.items.put(("token", text))
        self.items.put(("end", None))


class ChatStream:
    """Iterate for tokens (str) and PING; `close()` (or leaving a `with` block) stops upstream.

    Gives up with LLMUnavailable("timeout") when the endpoint stays silent for longer than its
    timeout, even if the HTTP client is still waiting (its own timeout then ends the thread).
    """

    def __init__(self, conf: Settings, messages: list[dict[str, str]], ping_every: float = 5.0) -> None:
        self.conf = conf
        self.ping_every = ping_every
        self.reader = _Reader(conf, messages)
        self.started = time.monotonic()
        self.first_token_at: float | None = None
        self._last_token = self._last_event = self.started

    @property
    def usage(self) -> Usage:
        return self.reader.usage

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.reader.cancelled.set()

    def __iter__(self) -> Iterator[str | Ping]:
        self.reader.start()
        while True:
            kind, value = self._next()
            if kind == "token":
                self.first_token_at = self.first_token_at or time.monotonic()
                yield value
            elif kind == "ping":
                yield PING
            elif kind == "error":
                raise value
            else:
                return

    def _next(self) -> tuple[str, Any]:
        """The next item; a ping after `ping_every` s of silence; a timeout error after `timeout` s."""
        while True:
            deadline = self._last_token + self.conf.timeout
            next_ping = self._last_event + self.ping_every
            wait = max(0.0, min(deadline, next_ping) - time.monotonic())
            try:
                item = self.reader.items.get(timeout=wait)
            except queue.Empty:
                now = time.monotonic()
                if now >= deadline:
                    self.close()
                    raise LLMUnavailable("timeout") from None
                if now >= next_ping:
                    self._last_event = now
                    return ("ping", None)
                continue
            self._last_token = self._last_event = time.monotonic()
            return item


def stream_chat(conf: Settings, messages: list[dict[str, str]], ping_every: float = 5.0) -> ChatStream:
    _client(conf)  # the first call imports the SDK (a second on a busy CPU): not the model's delay
    return ChatStream(conf, messages, ping_every)


def probe(conf: Settings) -> str:
    """For /healthz: list the models (cheap) with a short timeout."""
    from openai import OpenAIError

    try:
        _client(conf).with_options(timeout=2.0, max_retries=0).models.list()
    except OpenAIError as exc:
        return f"error: {_unavailable(exc).reason}"
    return "ok"
