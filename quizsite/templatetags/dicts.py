from django import template

register = template.Library()


@register.filter(name="get_item")
def get_item(mapping, key):
    """`mapping|get_item:key` for dict lookups by a variable key in templates."""
    if not mapping:
        return None
    return mapping.get(key)
