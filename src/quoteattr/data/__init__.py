"""Articles in and out: the one schema, atomic JSONL I/O, quotation marks, and ingestion of raw pages."""
