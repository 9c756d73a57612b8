"""Sphinx extension: the step-by-step explorer, live in the pages.

At build time each graph of ``graphs.py`` is written with ``to_html`` (one offline
HTML file: no network, no libraries) into the site's ``_explorer/`` folder; the
``explorer`` directive embeds one of them in a page as an iframe::

    ```{explorer} apple_orange
    :height: 460
    ```

A reader then steps through back-propagation in the documentation itself, with the
explorer's buttons, slider or arrow keys.
"""
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

import graphs
import nn.explore

FOLDER = "_explorer"


def write_apple_orange(path):
    graphs.apple_orange().to_html(path, title="apples and oranges (figure 5-17)")


def write_sigmoid_node(path):
    graphs.sigmoid_node().to_html(path, title="the sigmoid as four nodes (figure 5-19)")


def write_small_mlp(path):
    graphs.small_mlp().to_html(path, title="a 2-3-1 perceptron's squared error")


def write_two_layer_net(path):
    nn.explore.to_html(*graphs.two_layer_net(), path)


PAGES = {"apple_orange": write_apple_orange, "sigmoid_node": write_sigmoid_node,
         "small_mlp": write_small_mlp, "two_layer_net": write_two_layer_net}


class Explorer(SphinxDirective):
    """``{explorer} NAME``: the explorer page NAME of ``PAGES`` in an iframe."""

    required_arguments = 1
    option_spec = {"height": directives.positive_int}

    def run(self):
        name = self.arguments[0]
        if name not in PAGES:
            raise self.error(f"no explorer page {name!r}; the pages are {sorted(PAGES)} "
                             "(docs/_ext/live_explorers.py)")
        up = "../" * self.env.docname.count("/")
        src = f"{up}{FOLDER}/{name}.html"
        height = self.options.get("height", 480)
        html = (f'<div class="cr-embed"><iframe class="cr-explorer" src="{src}" '
                f'title="explorer: {name}" height="{height}"></iframe>'
                f'<p class="cr-embed-note">Click inside, then step with ← and →, or the '
                f'buttons. <a href="{src}">Open it on its own page</a>.</p></div>')
        return [nodes.raw("", html, format="html")]


def write_pages(app):
    if app.builder.format != "html":
        return
    folder = Path(app.outdir) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for name, write in PAGES.items():
        write(folder / f"{name}.html")


def setup(app):
    app.add_directive("explorer", Explorer)
    app.connect("builder-inited", write_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
