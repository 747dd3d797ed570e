"""Dispatch's additions to the core tables: indexes its queries need as tables grow.

No new tables: SLA timers live in the core's `timers`, messages in `outbox`.
"""

from __future__ import annotations

from sqlalchemy import Index, text

from hotline.storage.models import OutboxMessage, Timer

# The claim scans undelivered messages in id order; delivered ones (nearly all, after a
# while) stay out of the index.
Index("ix_outbox_undelivered", OutboxMessage.id,
      postgresql_where=text("status IN ('pending', 'delivering')"),
      sqlite_where=text("status IN ('pending', 'delivering')"))
# A department's notices: fired timers of its assignments.
Index("ix_timers_assignment_id", Timer.assignment_id)
