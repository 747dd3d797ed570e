"""The pure work-order domain: no session, socket or clock inside."""
