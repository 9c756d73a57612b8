"""Sphinx extension: two directives for the API reference.

``{apimodule} MODULE`` documents a module's public functions and classes with autodoc,
leaving out those the packages above it export (``autograd.Value``, ``nn.Affine`` ...),
which the package's own entry documents: every object is described once, under the
shortest name a user imports it by. With ``:recursive:`` it documents the modules under
a package too, found when the site is built, so a new module appears by itself.

``{optable}`` is the op table of ``autograd.ops`` as a table: one line per row, read
from ``autograd.ops.OPS`` when the site is built.

The docstrings are written to be read as plain text too, with habits reST reads
otherwise; ``docstring_as_rest`` turns them into reST as autodoc reads them, so that
``sphinx-build -W`` passes without the docstrings changing:

- a column list such as ::

      ``data``   the number computed on the forward pass
      ``grad``   d(output)/d(this node), continued on the next line
                 indented to the column

  is a definition list;
- an indented block (a formula, a table of updates, code) is preformatted text, unless it
  defines the one-line term above it (a reST definition list);
- a list or a column list right after a paragraph line gets the blank line reST needs;
- ``|x|`` is an absolute value (not a substitution), and a ``*`` that opens no emphasis
  (``(+, *)``, ``f(*inputs, **params)``) is text.

These pages are MyST Markdown, so the directives write MyST (``eval-rst`` for autodoc).
"""
import importlib
import pkgutil
import re

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective


def exports(name):
    """The objects the module ``name`` exports in its ``__all__`` (none without one)."""
    module = importlib.import_module(name)
    return {id(getattr(module, attr)) for attr in getattr(module, "__all__", ())}


def submodules(package):
    """The public modules under ``package``, all levels, in name order."""
    module = importlib.import_module(package)
    found = pkgutil.walk_packages(getattr(module, "__path__", []), package + ".")
    return sorted(m.name for m in found if not any(p.startswith("_") for p in m.name.split(".")))


class ApiModule(SphinxDirective):
    """``{apimodule} MODULE``, with ``:recursive:`` its modules too, ``:submodules:`` only
    them, and ``:skip: NAME ...`` leaving out modules (and theirs) another page has."""

    required_arguments = 1
    option_spec = {"recursive": directives.flag, "submodules": directives.flag,
                   "skip": directives.unchanged}

    def run(self):
        name = self.arguments[0]
        skip = tuple(self.options.get("skip", "").split())
        names = [] if "submodules" in self.options else [name]
        if "recursive" in self.options or "submodules" in self.options:
            names += [m for m in submodules(name)
                      if not any(m == s or m.startswith(s + ".") for s in skip)]
        lines = []
        for module_name in names:
            lines += self.automodule(module_name)
        return parse(self, lines, f"<apimodule {name}>")

    @staticmethod
    def automodule(name):
        """autodoc's automodule for ``name``, without what the packages above it export
        (documented there); a top package shows what it exports."""
        module = importlib.import_module(name)
        parts = name.split(".")
        above = set().union(*(exports(".".join(parts[:k])) for k in range(1, len(parts))))
        skip = sorted(k for k, v in vars(module).items()
                      if not k.startswith("_") and id(v) in above)
        # The pages are MyST Markdown, the docstrings reST: eval-rst reads them as reST.
        lines = ["```{eval-rst}", f".. automodule:: {name}", "   :members:", "   :undoc-members:"]
        if skip:
            lines.append(f"   :exclude-members: {', '.join(skip)}")
        return lines + ["```", ""]


def parse(directive, lines, source):
    container = nodes.container()
    container.document = directive.state.document
    directive.state.nested_parse(StringList(lines, source=source), 0, container,
                                 match_titles=True)
    return container.children


COLUMN = re.compile(r"^(\s*)(``[^`]+``)\s{2,}(\S.*)$")
# Stars that open no emphasis: "1 for *, / and **)", "f(*inputs, **params)".
LONE_STARS = re.compile(r"(?<![\w*])\*{1,2}(?=[),\s]|$|\w+[,)])")
BULLET = re.compile(r"^\s*[-*] \S")
NEXT_IN_COLUMN = re.compile(r"^(\s*)(``[^`]+``)\s+(\S.*)$")  # once a column list has begun


def _indent(line):
    return len(line) - len(line.lstrip())


def _escape(line):
    """``|`` and a ``*`` that opens no emphasis (``(+, *)``), outside ``literals``, escaped."""
    marker = re.match(r"\s*(?:[-*] )?", line).group()  # a bullet's own "*" stays
    parts = line[len(marker):].split("``")
    return marker + "``".join(p if k % 2 else LONE_STARS.sub(lambda m: "\\*" * len(m.group()),
                                                    p.replace("|", "\\|"))
                     for k, p in enumerate(parts))


def is_definition(lines, i, outer, out, in_list):
    """Whether the indented text starting at ``lines[i]`` defines the one-line term
    before it, as in a reST definition list: the term alone after a blank line (or
    after the previous definition), the indented text ending at a blank line or at
    the next term."""
    def indent(k):
        return len(lines[k]) - len(lines[k].lstrip())

    term_alone = bool(out and out[-1].strip()) and (len(out) < 2 or not out[-2].strip()
                                                     or in_list)
    end = next((k for k in range(i, len(lines)) if not lines[k].strip() or indent(k) <= outer),
               len(lines))
    next_term = end + 1 < len(lines) and lines[end + 1].strip() and indent(end + 1) > outer
    return term_alone and (end == len(lines) or not lines[end].strip() or bool(next_term))


def docstring_as_rest(app, what, name, obj, options, lines):
    """Read the docstrings' plain-text habits as reST (see the module docstring):

    - an indented block (a formula, a table, code) is preformatted text, as it reads;
    - a list or a column list right after a paragraph line gets the blank line reST wants;
    - ``|x|`` and a lone ``*`` are text.
    """
    out = []
    column = None  # (indent, text column) while in a column list
    literal = None  # while in a preformatted block: the indent it must exceed
    outer = 0  # the indent of the text around: 0, or a list item's text
    in_list = False
    definition = None  # while in a definition's indented text: the indent it must exceed
    definitions = None  # while in a definition list (until a blank line)
    for i, line in enumerate(lines):
        blank = not line.strip()
        indent = len(line) - len(line.lstrip())
        if definition is not None:
            if not blank and indent > definition:
                out.append(_escape(line))
                continue
            definition = None
        if literal is not None:
            if blank or indent > literal:
                out.append(line)
                continue
            literal = None
            if out and out[-1].strip():
                out.append("")
        after_text = bool(out) and bool(out[-1].strip())
        if column and not blank and indent >= column[1]:
            out.append(column[0] + "   " + _escape(line.strip()))
            continue
        match = (NEXT_IN_COLUMN if column else COLUMN).match(line)
        if match:
            lead, term, text = match.groups()
            if after_text and column is None:
                out.append("")
            out += [lead + term, lead + "   " + _escape(text)]
            column = (lead, len(line) - len(text))
            continue
        if column and not blank:
            out.append("")
        column = None
        if blank:
            out.append(line)
            definitions = None
            continue
        if indent > outer and not (in_list and indent == outer):
            if is_definition(lines, i, outer, out, definitions is not None):
                out.append(_escape(line))
                definition = definitions = outer
                continue
            # An indented block: preformatted text ("::" alone is dropped by reST).
            out += ([""] if after_text else []) + [" " * outer + "::", "", line]
            literal = outer
            continue
        bullet = BULLET.match(line)
        if bullet:
            if after_text and not in_list:
                out.append("")
            in_list, outer = True, indent + 2
        elif in_list and indent < outer:
            if after_text:
                out.append("")  # the list ends
            in_list, outer = False, indent
        out.append(_escape(line))
        if line.rstrip().endswith("::"):
            literal = indent
    lines[:] = out


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ") or " "


class OpTable(SphinxDirective):
    def run(self):
        import autograd.ops as ops
        python_name = {id(v): k for k, v in vars(ops).items()
                       if isinstance(v, ops.Op) and not k.startswith("_")}
        lines = ["```{list-table}", ":header-rows: 1", ":widths: auto", ":class: cr-optable",
                 "", "* - row", "  - drawn as", "  - what it computes"]
        for name, op in ops.OPS.items():
            attr = python_name.get(id(op), name)
            row = f"`ops.{attr}`" + (f" (`{name}`)" if attr != name else "")
            notes = [f"{op.arity} input{'s' * (op.arity != 1)}"]
            notes += [] if op.scalar else ["numpy arrays only"]
            notes += [f"kinks at {op.kinks}"] if op.kinks else []
            lines += [f"* - {row}", f"  - `{op.symbol}`",
                      f"  - {_cell(op.doc or '')} ({', '.join(notes)})"]
        lines.append("```")
        return parse(self, lines, "<optable>")


def setup(app):
    app.add_directive("apimodule", ApiModule)
    app.add_directive("optable", OpTable)
    app.connect("autodoc-process-docstring", docstring_as_rest)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
