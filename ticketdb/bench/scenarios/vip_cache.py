"""``vip_open_tickets_cached``: the Redis read-through path against the database path
(ticketdb.cache_bench); skipped by the runner when Redis does not answer."""

from ticketdb.bench.registry import register
from ticketdb.cache_bench import registry_scenario

register(registry_scenario())
