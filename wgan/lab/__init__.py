"""The lab: research tooling around the product, not part of it.

Studies (``study``, ``study_readme``), sweep reports (``sweep_report``), speed benchmarks
(``benchmark``, ``benchmark_report``), critic capacity (``capacity``) and the generated
blocks of README.md and docs/ (``doc_blocks``, ``class_shares``). Only ``wgan.lab`` itself,
``benchmarks/``, ``tools/`` and the study and benchmark commands (``wgan.cli.study``,
``wgan.cli.benchmark``) import it; ``tests/test_layout.py`` enforces that.
"""
