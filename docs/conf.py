"""Sphinx configuration of chainrule's documentation.

Build it with the docs extra installed, the virtual environment active (see the
contributing page):

    sphinx-build -W -b html docs build/docs/html

The build and the site work offline: no intersphinx inventories, no web fonts, no CDN
scripts (no math typeset, so no MathJax; the notebooks' Jupyter widget scripts left
out); tests/docs/test_docs.py builds the site and opens every page in headless Chromium to
keep it so.
"""
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # this checkout's autograd and nn, not an installed copy
sys.path.insert(0, str(DOCS / "_ext"))

project = "chainrule"
author = "the chainrule authors"
copyright = "chainrule authors, MIT licence"

extensions = [
    "myst_nb",  # MyST Markdown pages and the notebooks (it includes myst_parser)
    "sphinx.ext.autodoc",
    "live_explorers",  # the explorer pages embedded in the engine and explorer pages
    "api_pages",  # {apimodule} and {optable} for the API reference
]

exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]

# MyST: ```{directive} fences, and ":::" blocks; "$" is no math marker (MathJax would
# be fetched from a CDN, and the pages need no formulas typeset).
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# The notebooks are shown with the outputs stored in them, never re-executed here (the
# test suite executes them).  Their explorer widgets would need the Jupyter widget
# scripts from a CDN: they are left out, and the still picture stored with each is shown.
nb_execution_mode = "off"
nb_ipywidgets_js = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("html", "application/vnd.jupyter.widget-state+json", None)]

# The API reference comes from the docstrings, in the order of the source.
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_typehints = "none"

html_theme = "pydata_sphinx_theme"
html_title = "chainrule"
html_static_path = ["_static"]
html_css_files = ["chainrule.css"]
html_theme_options = {
    # Nothing that reaches the network: no analytics, no icon links, no version switcher.
    "analytics": {},
    "icon_links": [],
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "footer_start": ["copyright"],
    "footer_end": [],
}
# Light or dark as the reader's system is (left unset, the theme logs a console error).
html_context = {"default_mode": "auto"}
# The guide's pages are one level, reached from the top bar: no left sidebar, so the
# embedded explorers get the width (and the op table). The API pages and the notebooks
# keep theirs.
html_sidebars = {page.stem: [] for page in DOCS.glob("*.md")} | {"api/ops": []}
html_show_sourcelink = False
html_copy_source = False

# docs/notebooks is a link to the repository's notebooks/ folder. Sphinx resolves links
# between files to real paths, so a notebook's link to the next one ("02_....ipynb")
# would point outside the docs; this gives it back its page name.
NOTEBOOKS = (DOCS.parent / "notebooks").resolve()


def notebook_links(app, doctree):
    from sphinx import addnodes
    for node in doctree.findall(addnodes.pending_xref):
        target = Path(node.get("reftarget", ""))
        if node.get("refdomain") == "doc" and target.parent == NOTEBOOKS:
            node["reftarget"] = f"notebooks/{target.name}"


def setup(app):
    app.connect("doctree-read", notebook_links)
