"""Fitting and shipping the model: the Trainer script's steps, the model card written from the run, packaging."""
