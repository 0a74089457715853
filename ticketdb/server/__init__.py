"""Which database: the embedded sandbox server, a local Galera cluster, multi-host DSN failover,
and what ticketdb needs to know about a Galera node.

Above the plumbing (``db``, ``dsn``, ``errors``, ``catalog``) and below everything that uses a
server (locks, migrate, seed, app, bench); it imports none of them. Creating the DSN's database
and scratch databases beside it: databases.py.
"""
