"""Built-in bench scenarios; every module here registers its scenarios on import
(``ticketdb.bench.registry.scenarios`` imports ``queries`` and ``escalation`` first, so the
output follows the issue's order, then any other module dropped in here)."""
