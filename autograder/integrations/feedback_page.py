"""The feedback page of `nbgrader generate_feedback`: one HTML file that reads right without internet.

nbgrader's feedback template loads MathJax from a CDN, so a class without internet (a server on
a closed network, a laptop on a train) sees raw LaTeX, and its score summary lists every grade
cell as "Test cell". FeedbackPageExporter (nbgrader_config.py: c.GenerateFeedback.exporter_class)
is nbconvert's HTMLExporter with two changes:

- Formulas are rendered to MathML when the page is made (latex2mathml), which Chromium, Firefox
  and Safari draw natively: no script, no font files, nothing to fetch, and the page stays one
  self-contained file (fetch_feedback gives students the page alone). The MathML is cleaned with
  bleach to MathML elements only, since latex2mathml copies \\text{...} through unescaped.
- The page's head is ours (no script at all) and its summary names each exercise with its points.

Everything else (cells, grade panels, comments) is nbgrader's feedback template, extended.
"""

import html
import re

import bleach
from jinja2 import DictLoader
from latex2mathml.converter import convert
from nbconvert.exporters import HTMLExporter
from nbconvert.exporters.html import contextfilter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from traitlets import default

#: The MathML elements latex2mathml writes, and their presentation attributes: all a formula keeps.
MATHML_TAGS = {
    "math",
    "mrow",
    "mi",
    "mn",
    "mo",
    "ms",
    "mtext",
    "mspace",
    "msub",
    "msup",
    "msubsup",
    "mfrac",
    "msqrt",
    "mroot",
    "munder",
    "mover",
    "munderover",
    "mtable",
    "mtr",
    "mtd",
    "mstyle",
    "mpadded",
    "mphantom",
    "menclose",
}
MATHML_ATTRIBUTES = [
    "xmlns",
    "display",
    "mathvariant",
    "stretchy",
    "fence",
    "form",
    "width",
    "height",
    "depth",
    "lspace",
    "rspace",
    "separator",
    "accent",
    "accentunder",
    "movablelimits",
    "columnalign",
    "columnspacing",
    "rowspacing",
    "displaystyle",
    "scriptlevel",
    "linethickness",
    "largeop",
    "minsize",
    "maxsize",
    "symmetric",
    "notation",
]


FUNCTION_NAME = re.compile(r"<mi>(?:log|ln|exp|sin|cos|tan|max|min|arg)</mi>")


def tex_to_mathml(tex: str, display: bool) -> str:
    """A formula as clean MathML (`<math display="block">` when `display`), or as its LaTeX in
    <code> when latex2mathml cannot read it: the page shows the text rather than failing."""
    # latex2mathml wraps the argument of \mathrel in an <mo> holding an <mrow> (not valid MathML),
    # and writes += as two operators drawn apart: one <mo>+=</mo> is the relation TeX draws.
    tex = tex.replace(r"\mathrel{+}=", "+=")
    try:
        mathml = convert(tex.strip(), display="block" if display else "inline")
    except Exception:
        delimiter = "$$" if display else "$"
        return f'<code class="tex">{html.escape(delimiter + tex + delimiter)}</code>'
    mathml = mathml.replace("<mo>&#x0002B;</mo><mo>&#x0003D;</mo>", "<mo>+=</mo>")
    # TeX's thin space after \log and the like, and an \underbrace as wide as what it is under.
    mathml = FUNCTION_NAME.sub(r'\g<0><mspace width="0.167em"></mspace>', mathml)
    mathml = mathml.replace("<mo>&#x23DF;</mo>", '<mo stretchy="true">&#x23DF;</mo>')
    return bleach.clean(mathml, tags=MATHML_TAGS, attributes=MATHML_ATTRIBUTES, strip=True)


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer with formulas written as MathML instead of left for MathJax."""

    def block_math(self, body: str) -> str:
        return tex_to_mathml(body, display=True)

    def inline_math(self, body: str) -> str:
        return tex_to_mathml(body, display=False)

    def latex_environment(self, name: str, body: str) -> str:
        return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)


def exercise_name(grade_id: str) -> str:
    """'conv_forward' from the grade cell id 'test_conv_forward'."""
    return grade_id.removeprefix("test_")


PAGE_TEMPLATE = "autograder_feedback_page.html.j2"
# Extends nbgrader's feedback/index.html.j2 (found as index.html.j2 under template_name "feedback").
PAGE = r"""{%- extends 'index.html.j2' -%}

{%- macro num(value) -%}{{ "%g" | format(value | float | round(2)) }}{%- endmacro -%}

{%- block header -%}
<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8" />
<title>{{ resources.nbgrader.notebook }}</title>
{{ resources.include_css('bootstrap.min.css') }}
{% for css in resources.inlining.css -%}
<style type="text/css">
{{ css }}
</style>
{% endfor %}
<style>
body { overflow: visible; font-size: 14px; padding-top: 1em; }
div#notebook { overflow: visible; border-top: none; }
div#notebook-container { width: 100%; }
div.prompt { min-width: 21ex; }
div.nbgrader_cell { width: 100%; }
div.nbgrader_cell .panel-heading { padding: 0.4em 0.6em; height: 37px; }
div.nbgrader_cell .panel-heading a { color: #BBBBBB; }
div.nbgrader_cell .panel-body { padding: 0.4em; }
div.nbgrader_cell .input_area { background: white; border: none; }
span.nbgrader-label { line-height: 25px; }
li.late-penalty { color: #d2413a; }
#toc li { margin: 0.15em 0; }
#toc .points { color: #666; }
.rendered_html img { max-width: 100%; height: auto; }
/* A font with OpenType math tables, which stretches brackets and draws big operators. */
math { font-size: 1.15em; }
math { font-family: "STIX Two Math", "Cambria Math", "Latin Modern Math", "DejaVu Math TeX Gyre", math; }
math[display="block"] { margin: 0.6em 0; }
@media print { div.cell, div.output_wrapper, div.output { display: block; page-break-inside: avoid; } }
</style>
</head>
{%- endblock header -%}

{% block body %}
<body>
  <a name="top"></a>
  <div class="container">
    <div class="panel panel-default">
      <div class="panel-heading">
        {%- set grades = resources.nbgrader %}
        <h4>{{ grades.notebook }} (Score: {{ num(grades.score) }} / {{ num(grades.max_score) }})</h4>
        <div id="toc">
          <ol>
          {%- for cell in nb.cells if cell.metadata.nbgrader and cell.metadata.nbgrader.grade %}
            {%- set meta = cell.metadata.nbgrader %}
            <li><a href="#{{ meta.grade_id }}">
            {%- if cell.cell_type == "code" and not meta.solution -%}
              {{ meta.grade_id | exercise_name }}
            {%- elif cell.cell_type == "code" -%}
              Coding free-response {{ meta.grade_id }}
            {%- else -%}
              Written response {{ meta.grade_id }}
            {%- endif -%}
            </a> <span class="points">({{ num(meta.points) }} points)</span>:
            {{ num(meta.score) }} / {{ num(meta.points) }}</li>
          {%- endfor %}
          {%- if grades.late_penalty > 0 %}
            <li class="late-penalty">Late submission penalty (Score: -{{ num(grades.late_penalty) }})</li>
          {%- endif %}
          </ol>
        </div>
      </div>
      <div class="panel-body">
        <div id="notebook" class="border-box-sizing">
          <div class="container" id="notebook-container">
            {{ super.super() }}
          </div>
        </div>
      </div>
    </div>
  </div>
</body>
{%- endblock body %}
"""


class FeedbackPageExporter(HTMLExporter):
    """HTMLExporter for feedback pages: nbgrader's feedback template with formulas as MathML, a head
    without scripts, and a summary that names each exercise (see the module's docstring)."""

    @default("extra_loaders")
    def _extra_loaders_default(self):
        return [DictLoader({PAGE_TEMPLATE: PAGE})]

    @default("template_file")
    def _template_file_default(self):
        return PAGE_TEMPLATE

    def default_filters(self):
        yield from super().default_filters()
        yield ("exercise_name", exercise_name)

    @contextfilter
    def markdown2html(self, context, source: str) -> str:
        """A markdown cell's HTML as HTMLExporter renders it, formulas as MathML."""
        cell = context.get("cell", {})
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        renderer = MathMLRenderer(
            escape=False,
            attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=path,
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        return MarkdownWithMath(renderer=renderer).render(source)
