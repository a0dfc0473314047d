"""Operations health for the admin: the periodic jobs' runs, the e-mail outbox, the queues and
the outside services (the same probes as /healthz).

- `runs`: each periodic job's last run (JobRun), written apart from the job's own transaction;
- `outbox`: counts, the e-mails given up on, retry / discard, a test e-mail to oneself;
- `platform`: the RQ queues' lengths and the health probes.
"""

from nexus.services.operations import outbox, platform, runs

__all__ = ["outbox", "platform", "runs"]
