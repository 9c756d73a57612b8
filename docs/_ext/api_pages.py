"""Sphinx extension: two directives for the API reference.

``{apimodule} MODULE`` documents a module's public functions and classes with autodoc,
leaving out those its package exports at the top (``autograd.Value``, ``nn.Affine``
...), which the package's own page documents: every object is described once, under
the shortest name a user imports it by.

``{optable}`` is the op table of ``autograd.ops`` as a table: one line per row, read
from ``autograd.ops.OPS`` when the site is built.

The docstrings are written to be read as plain text too, in two habits reST reads
otherwise; ``docstring_as_rest`` turns them into reST as the docstrings are read:
``|x|`` is an absolute value, not a substitution, and a column list such as ::

    ``data``   the number computed on the forward pass
    ``grad``   d(output)/d(this node), continued on the next line
               indented to the column

is a definition list.
"""
import importlib
import re

from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective


def exported_by_package(module_name):
    """The objects the top package of ``module_name`` exports in its ``__all__``."""
    top = importlib.import_module(module_name.split(".")[0])
    return {id(getattr(top, name)) for name in getattr(top, "__all__", ())}


class ApiModule(SphinxDirective):
    required_arguments = 1

    def run(self):
        name = self.arguments[0]
        module = importlib.import_module(name)
        exported = exported_by_package(name)
        skip = sorted(k for k, v in vars(module).items()
                      if not k.startswith("_") and id(v) in exported)
        lines = [f".. automodule:: {name}", "   :members:", "   :undoc-members:"]
        if skip:
            lines.append(f"   :exclude-members: {', '.join(skip)}")
        content = StringList(lines, source=f"<apimodule {name}>")
        return self.parse_content_to_nodes_from(content)

    def parse_content_to_nodes_from(self, content):
        from docutils import nodes
        node = nodes.section()
        node.document = self.state.document
        self.state.nested_parse(content, 0, node, match_titles=True)
        return node.children


COLUMN = re.compile(r"^(\s*)(``[^`]+``)\s{2,}(\S.*)$")
NEXT_IN_COLUMN = re.compile(r"^(\s*)(``[^`]+``)\s+(\S.*)$")  # once a column list has begun


def _indent(line):
    return len(line) - len(line.lstrip())


def _escape_bars(line):
    """``|`` outside ``literals`` escaped, so that reST reads no substitution."""
    parts = line.split("``")
    return "``".join(p if k % 2 else p.replace("|", "\\|") for k, p in enumerate(parts))


def docstring_as_rest(app, what, name, obj, options, lines):
    out, column, literal = [], None, None
    for line in lines:
        if literal is not None and (not line.strip() or _indent(line) > literal):
            out.append(line)  # inside a literal block: as written
            continue
        literal = None
        match = (NEXT_IN_COLUMN if column else COLUMN).match(line)
        if match:
            indent, term, text = match.groups()
            out += [indent + term, indent + "   " + _escape_bars(text)]
            column = (indent, len(line) - len(text))
        elif column and line.strip() and _indent(line) >= column[1]:
            out.append(column[0] + "   " + _escape_bars(line.strip()))
        else:
            column = None
            out.append(_escape_bars(line))
            if line.rstrip().endswith("::"):
                literal = _indent(line)
    lines[:] = out


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ") or " "


class OpTable(SphinxDirective):
    def run(self):
        import autograd.ops as ops
        python_name = {id(v): k for k, v in vars(ops).items()
                       if isinstance(v, ops.Op) and not k.startswith("_")}
        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 12 10 6 8 8 56", "",
                 "   * - row", "     - drawn as", "     - inputs", "     - on Values",
                 "     - kinks", "     - what it computes"]
        for name, op in ops.OPS.items():
            attr = python_name.get(id(op))
            row = f"``ops.{attr}`` (``{name}``)" if attr and attr != name else f"``{name}``"
            lines += [f"   * - {row}", f"     - {_cell(op.symbol)}", f"     - {op.arity}",
                      f"     - {'yes' if op.scalar else 'arrays only'}",
                      f"     - {_cell(op.kinks or '')}", f"     - {_cell(op.doc or '')}"]
        node_list = []
        from docutils import nodes
        container = nodes.container(classes=["cr-optable"])
        container.document = self.state.document
        self.state.nested_parse(StringList(lines, source="<optable>"), 0, container)
        node_list.append(container)
        return node_list


def setup(app):
    app.add_directive("apimodule", ApiModule)
    app.add_directive("optable", OpTable)
    app.connect("autodoc-process-docstring", docstring_as_rest)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
