"""Articles in and out: the one schema, every input read and every output written, quotation marks, and the
cleaning of raw pages."""
