"""MkDocs hooks of the documentation site (see mkdocs.yml).

- The committed figures ``results/**/*.png`` and the notebooks ``notebooks/*.ipynb`` enter the
  site as ``results/NAME.png`` and ``notebooks/NAME.ipynb`` without copies in ``docs/``
  (so ``--strict`` checks links to them, and they are never stale).
- ``<!-- readme: TITLE -->`` in a page is replaced by the README's section ``## TITLE`` (up
  to the next ``## `` heading), so the answer has one source.
- ``<!-- help: COMMAND -->`` is replaced by ``monkeysim COMMAND --help`` in a code block.
- Sphinx roles in docstrings (``:func:`x` ``) are shown as plain code.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent
README = ROOT / "README.md"
MARKER = re.compile(r"<!--\s*(readme|help):\s*(.+?)\s*-->")


@event_priority(100)  # before mkdocs-jupyter turns the .ipynb files into pages
def on_files(files, config):
    site = config["site_dir"]
    use_urls = config["use_directory_urls"]
    for folder, pattern in (("results", "**/*.png"), ("notebooks", "*.ipynb")):
        for path in sorted((ROOT / folder).glob(pattern)):
            uri = f"{folder}/{path.relative_to(ROOT / folder).as_posix()}"
            if files.get_file_from_path(uri) is None:
                files.append(File(uri, str(ROOT), site, use_urls))
    return files


def readme_section(title: str) -> str:
    """The README's ``## title`` section, without its heading, links made site-relative."""
    lines = README.read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index(f"## {title}")
    except ValueError:
        raise ValueError(f"README.md has no section '## {title}'") from None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
               len(lines))
    text = "\n".join(lines[start + 1:end])
    return text.replace("](docs/", "](")


def cli_help(command: str) -> str:
    """``monkeysim COMMAND --help`` as printed at 100 columns."""
    from monkeysim.cli.main import build_parser

    os.environ["COLUMNS"] = "100"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
        build_parser().parse_args([*command.split(), "--help"])
    if not buf.getvalue().strip():
        raise ValueError(f"no help text for command {command!r}")
    return f"```text\n$ monkeysim {command} --help\n{buf.getvalue().rstrip()}\n```"


def on_page_markdown(markdown, page, config, files):
    def replace(m):
        return readme_section(m.group(2)) if m.group(1) == "readme" else cli_help(m.group(2))

    return MARKER.sub(replace, markdown)


SPHINX_ROLE = re.compile(r":(?:mod|func|class|data|meth|attr|exc|obj):(<code>)~?")


def on_page_content(html, page, config, files):
    """Docstrings cite with Sphinx roles (:func:`x`); show just the code ``x``."""
    return SPHINX_ROLE.sub(r"\1", html)
