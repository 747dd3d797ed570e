"""Storage: engine, models, migrations, queries."""
