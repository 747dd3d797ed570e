"""The citizens' web portal (网上诉求): submit, result page, status lookup, rating."""
