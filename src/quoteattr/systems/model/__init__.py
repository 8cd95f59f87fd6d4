"""The transformer system: token windows, the tagger + speaker linker network, and the QuoteAttributor that loads a
checkpoint and predicts."""
