"""Figures, one module per family; each takes named records or result dicts, never runner
modules, and :func:`monkeysim.plots.figure.save` writes any of them atomically."""
