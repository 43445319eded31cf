"""Command-line entry points. ``bin/*.py`` and the console scripts both call ``main`` here.

Importing this package quiets TensorFlow's start-up and C++ log lines before TensorFlow is
imported (``wgan.util.quiet``), so every way of starting a command gets the same console.
"""

from wgan.util import quiet

quiet.install()
