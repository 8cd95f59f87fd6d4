"""Fitting and shipping the model: the Trainer script's logic, the model card written from the run, and wheel packaging."""
