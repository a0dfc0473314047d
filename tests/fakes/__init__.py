"""Local stand-ins for the services we do not run in tests (the LLM, the card gateway)."""

from http.server import ThreadingHTTPServer


class FakeServer(ThreadingHTTPServer):
    """A threaded HTTP server whose listen backlog holds 50 concurrent clients (the default 5
    resets connections when a concurrency test opens them all at once on a busy machine)."""

    request_queue_size = 128
    daemon_threads = True
