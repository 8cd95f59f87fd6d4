"""The labelled dataset: built from hand labels or public corpora (PolNeAR) into a DatasetDict with its card."""
