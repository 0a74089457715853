"""Lint rules, one per module (``<code>_<slug>.py``), each registered with ``@register``."""
