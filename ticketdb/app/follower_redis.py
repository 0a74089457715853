"""The VIP follower's side of Redis (app/follower.py): the two scripts that publish and resign
atomically, fenced by the hash's ``owner`` (a follower that lost its lease while paused cannot
publish over its successor), and what a previous follower left there (a restart resumes its
generation instead of flushing every cached set)."""

from __future__ import annotations

from typing import Any

from ticketdb.app.cache import follower_keys

# KEYS: hash, heartbeat, blind. ARGV: owner, claim, reset, gen, epoch, triggers, position,
# heartbeat ms, blind ms, number of fields set, then field/value pairs, then fields to delete.
# Returns 1 = published, 0 = the hash belongs to another follower, -1 = the hash is gone.
PUBLISH_LUA = """
local owner = redis.call('HGET', KEYS[1], 'owner')
if ARGV[2] ~= '1' then
  if not owner then return -1 end
  if owner ~= ARGV[1] then return 0 end
end
if ARGV[3] == '1' then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'gen', ARGV[4], 'epoch', ARGV[5],
           'triggers', ARGV[6], 'position', ARGV[7])
local i = 11
for _ = 1, tonumber(ARGV[10]) do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]); i = i + 2
end
while i <= #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]); i = i + 1 end
if tonumber(ARGV[9]) > 0 then
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[9]); redis.call('DEL', KEYS[2])
else
  redis.call('DEL', KEYS[3])
  if tonumber(ARGV[8]) > 0 then redis.call('SET', KEYS[2], ARGV[7], 'PX', ARGV[8]) end
end
return 1
"""
# KEYS: hash, heartbeat. ARGV: owner. A clean stop: readers fall back at once, not at expiry.
RESIGN_LUA = """
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  redis.call('DEL', KEYS[2]); redis.call('HDEL', KEYS[1], 'owner')
end
return 1
"""


def previous_state(client: Any, namespace: str) -> tuple[str, str, dict[int, int]]:
    """(generation, trigger state, published versions) a previous follower left in the hash
    ("" and {} when there is none)."""
    _heartbeat, hash_key, _blind = follower_keys(namespace)
    state = client.hgetall(hash_key)
    published = {int(k[2:]): int(v) for k, v in state.items() if k.startswith(b"v:")}
    return state.get(b"gen", b"").decode(), state.get(b"triggers", b"").decode(), published
