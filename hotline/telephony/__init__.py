"""Telephony (话务): Asterisk AMI through panoramisk — the only importer of panoramisk.

A module that lives in `hotline/` (the client's layout) but is not part of the core: the
core never imports it. `module.py` plugs it in: the consumer/stand-by background task
(when `HOTLINE_AMI_HOST` is set, or the built-in simulator with `serve --demo`) and the
`/api/v1/telephony/...` routes. Inside: `events` (typed AMI events), `tracker` (pure
calls/queues/agents), `protocol`/`link` (framing, connection), `consumer` (events →
tracker → live/metrics/desk), `leader` (one consumer per Asterisk), `desk` (drafts, call
records, callbacks), `actions` (agent actions), `api`, `sim` (PBX simulator), `dialplan`,
`cli` (`hotline pbx-sim`, `hotline dialplan`).
"""
