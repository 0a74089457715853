"""The ticket application's runtime: the workflow (procedure calls with retries and failover),
deadline alerts, the VIP cache, and the report queries read from ``queries/*.sql``.

Built on the plumbing and ``server``; used by the CLI and ``bench``. Its SQL lives in .sql
files that ``ticketdb lint`` checks, never in Python strings.
"""
