"""KPIs (考核指标) computed from the event log and the call records, for any period and group."""
