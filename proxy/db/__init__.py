"""The proxy's one database: the usage ledger, the runtime state and the recorded traffic share it.

A SQLite file under the data directory by default, a PostgreSQL database when
``database.dsn`` (alias ``ledger.dsn``) is set (several replicas). On SQLite each
store opens its own connection; on PostgreSQL the stores of a process share one
pool. The migration sequence is one for the whole database: whichever opens it
first (a store, ``serve``'s start-up step or ``pdt-proxy migrate``) migrates, the
others find it done, and nobody serves on a schema newer than it knows.

location.py    settings -> the SQLite file (one name for every store)
migrations/    numbered SQL files per backend, one sequence for ledger, state and recordings
schema.py      which schema versions a release may serve on (pure)
sqlite.py      a connection on its own thread (and one for inline commits), WAL, migrate
postgres.py    connect, read the version, migrate under an advisory lock (psycopg 3, async)
pool.py        the process's PostgreSQL pool, shared by every store
factory.py     settings -> that pool
migrate.py     ``pdt-proxy migrate`` and serve's start-up migrate-or-check
"""
