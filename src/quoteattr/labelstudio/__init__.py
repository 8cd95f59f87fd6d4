"""Human review in Label Studio: the labelling format, push/pull against a server, and the store of exports in
data/annotations/."""
