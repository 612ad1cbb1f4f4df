"""Access control from the directory.

``auth.directory`` is the directory contract and its ldap3 implementation
(search-then-bind login, groups mapped to roles, an attribute mapped to the
agency); ``auth.demo`` is the in-process demo directory; ``auth.policy`` says
which role may see which fields of which object. No database models here.
"""
