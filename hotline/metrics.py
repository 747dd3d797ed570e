"""Prometheus metrics, one registry per running hotline (no process globals).

The names are CONTRACT's; monitoring depends on them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from hotline.domain.vocabulary import Channel


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.workorders_created = Counter("hotline_workorders_created", "Work orders created",
                                          ["channel"], registry=r)
        self.contacts = Counter("hotline_contacts", "Contacts received (new, appended or repeated)",
                                ["channel"], registry=r)
        self.ami_connected = Gauge("hotline_ami_connected", "1 while the AMI connection is up", registry=r)
        self.calls = Counter("hotline_calls", "Calls ended, by outcome", ["outcome"], registry=r)
        self.queue_waiting = Gauge("hotline_queue_waiting_calls", "Callers waiting", ["queue"], registry=r)
        self.agents = Gauge("hotline_agents", "Agents by state", ["state"], registry=r)
        self.webhook_deliveries = Counter("hotline_webhook_deliveries", "Department webhook attempts",
                                          ["result"], registry=r)
        self.outbox_pending = Gauge("hotline_outbox_pending", "Outbox messages not yet delivered", registry=r)
        self.timers_fired = Counter("hotline_timers_fired", "SLA timers fired", ["kind"], registry=r)
        self.workorders_overdue = Gauge("hotline_workorders_overdue",
                                        "Orders past their reply deadline, still with a department", registry=r)
        self.transitions = Counter("hotline_workorder_transitions", "Work-order events", ["kind"], registry=r)
        self.http_requests = Histogram("hotline_http_request_seconds", "HTTP request time",
                                       ["method", "route", "status"], registry=r,
                                       buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5))
        for ch in Channel:  # export zeros, so dashboards see every channel from the start
            self.workorders_created.labels(ch.value)
            self.contacts.labels(ch.value)
        self.ami_connected.set(0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
