from __future__ import annotations

from ticketdb.lint.registry import Rule, register


@register
class SourceNotFollowed(Rule):
    """A ``source``/``\\.`` command names a file that does not exist, or one already being read.

    ``source file`` is followed: the file is linted at that point of the script, its tables
    count for the statements after it and for the final schema. The name is looked up in the
    sourcing file's folder first, then in the working directory (the mysql client itself only
    looks in its working directory, so run such scripts from their own folder). A missing
    file means none of its statements were checked; a file that sources itself, directly or
    through others, would make the client read without end. The engine reports both: this
    class only declares the rule.

    **Anti-pattern**

    .. code-block:: sql

        -- upgrade.sql
        source upgrade_part2.sql   -- no such file next to upgrade.sql
        source upgrade.sql         -- itself: a cycle

    **Best practice**

    .. code-block:: sql

        -- upgrade.sql, next to upgrade_part2.sql
        source upgrade_part2.sql
    """

    code = "TDB032"
    name = "source-not-followed"
    severity = "error"
