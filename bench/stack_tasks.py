"""The floor of `python -m bench.stack`: a task that does nothing, for the Celery round trip
(send, a worker of the grading queue runs it, the result comes back through Redis) on the
stack's own broker. The bench's grading worker imports this module (`celery worker -I`);
the product never does."""

from celery import shared_task


@shared_task(name="bench.stack_tasks.noop", acks_late=True)
def noop(value: int = 0) -> int:
    return value
