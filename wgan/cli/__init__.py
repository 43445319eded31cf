"""Command-line entry points. ``bin/*.py`` and the console scripts both call ``main`` here."""
