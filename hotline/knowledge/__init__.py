"""The knowledge module (知识库): entries and their search, routing assist, duplicates and
hotspots. See docs/knowledge.md."""
