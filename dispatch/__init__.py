"""Dispatch: routing, SLA deadlines on a working-day calendar, escalation, department webhooks."""
