"""The lint parser: files → statements → sqlglot trees and routine bodies.

``files`` (read a file, open mysqldump comments, split) → ``statement`` (one statement per
kind) → ``unit`` (one piece handed to sqlglot, offsets kept) and ``routine`` (bodies walked
token by token, their DML back through ``unit``, their DDL through ``statement``);
``model`` holds the data they produce, ``words`` the shared keyword sets.
"""
