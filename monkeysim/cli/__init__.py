"""The command-line front end (``monkeysim COMMAND ...``): :mod:`.main` parses and dispatches,
one module per command registers its parser, :mod:`.common` holds the shared helpers."""
