"""Runners: each study end to end (cells, checkpoints, tables, figures), called by the CLI
and by the scripts in the top-level ``experiments/`` folder."""
