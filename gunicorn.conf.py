"""gunicorn settings: gthread workers, so that a streamed ARIA answer does not hold the process."""

import os

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Without Redis, jobs and the scheduler live in the web process: keep one of it.
workers = int(os.environ.get("WEB_CONCURRENCY", "2" if os.environ.get("REDIS_URL") else "1"))
timeout = 60
graceful_timeout = 20
max_requests = 2000
max_requests_jitter = 200
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") == "1" else None
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 27's control socket is one path per machine user: two servers (make run and the
# browser tests, say) would fight over it, and nothing here uses it.
control_socket_disable = True


def post_worker_init(worker):
    """Without Redis, run the periodic jobs from this worker."""
    if os.environ.get("REDIS_URL"):
        return
    from nexus.jobs.schedule import PERIODIC
    from nexus.queue import start_inprocess_scheduler

    start_inprocess_scheduler(worker.app.wsgi(), PERIODIC)
