"""Template tags of the numeric answer grid and the attention heatmaps."""

from django import template
from django.utils.safestring import mark_safe

from quizsite.heatmap import heatmap_svg
from quizsite.presenters import answer_grid as _answer_grid
from quizsite.presenters import theory_form_values

register = template.Library()


@register.simple_tag
def answer_grid(view, typed, errors_by_part):
    """`{% answer_grid view typed errors_by_part as grid %}`: the inputs of each numeric part."""
    return _answer_grid(view, typed, errors_by_part)


@register.simple_tag
def theory_filled(view, typed):
    """`{% theory_filled q typed as filled %}`: the learner's answer to show in a theory form."""
    return theory_form_values(view, typed)


@register.filter
def option_letter(number: int) -> str:
    """1 -> "A", 2 -> "B" ... (a matching question's answers are named by letter in its lists)."""
    return chr(ord("A") + int(number) - 1) if 1 <= int(number) <= 26 else str(number)


@register.filter
def has_math(text: str) -> bool:
    """Whether the text holds a formula (``$...$``), which an <option> cannot show."""
    return "$" in str(text)


@register.filter
def spoken(text: str) -> str:
    """A text with formulas as a screen reader may say them when MathML gives no name: the LaTeX
    without its dollars and backslashes ("$O(n \\cdot d^2)$" -> "O(n cdot d^2)")."""
    return " ".join(str(text).replace("$", "").replace("\\", "").split())


@register.simple_tag
def heatmap(entry, prefix=""):
    """`{% heatmap m "s12" %}`: one entry of a submission view's `attention_maps` as SVG."""
    row_axis, col_axis = entry["row_axis"], entry["col_axis"]
    description = (
        f"Rows are {row_axis}s, columns are {col_axis}s; each cell prints its weight and a "
        "stronger colour means more weight."
        + (" Hatched cells are masked: the mask forces their weight to 0." if entry.get("masked") else "")
    )
    svg = heatmap_svg(
        entry["matrix"],
        entry["row_labels"],
        entry["col_labels"],
        title=entry["title"],
        description=description,
        masked=entry.get("masked"),
        id_prefix=f"hm-{prefix}-{entry['id']}",
    )
    return mark_safe(svg)  # noqa: S308 - heatmap_svg escapes every label and value


@register.filter
def axis_plural(axis: str) -> str:
    """An attention map's axis in the plural, for its table's caption: "decoder query" -> "decoder queries"."""
    return axis[:-1] + "ies" if axis.endswith("y") and not axis.endswith("ey") else axis + "s"
