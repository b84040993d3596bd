"""PostgreSQL connections: the pool, migrations under an advisory lock, and error mapping."""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from pgvector.psycopg import register_vector_async
from psycopg import AsyncConnection
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from mnemo.errors import ConfigurationError, StoreUnavailableError
from mnemo.stores.migrations import Migration, load_migrations

Connection = AsyncConnection[DictRow]

# Arbitrary but fixed: every replica takes the same lock before it migrates.
MIGRATION_LOCK_KEY = 0x6D6E656D6F
DIMENSION_TOKEN = "{{dimension}}"
_URL_PASSWORD = re.compile(r"(://[^/@\s]*?:)[^@\s]*@")
_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def redact(text: str, password: str | None = None) -> str:
    """One line, without any password, from a URL or libpq message, to be shown or logged."""
    text = " ".join(text.split())
    if password:
        text = text.replace(password, "***")
    return _KEYWORD_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))


def parse_url(url: str) -> dict[str, str]:
    """The connection parameters of a URL (or key=value string); ConfigurationError if bad."""
    hint = "expected postgresql://user:password@host:port/dbname"
    try:
        params = {key: str(value) for key, value in conninfo_to_dict(url).items()}
    except psycopg.Error as exc:
        raise ConfigurationError(f"invalid PostgreSQL URL: {redact(str(exc))}; {hint}") from None
    # Several hosts (high availability) come with a comma-separated port each.
    if not all(port.isdigit() or not port for port in params.get("port", "").split(",")):
        raise ConfigurationError(
            f"invalid PostgreSQL URL: port {params['port']!r} is not a number; {hint}"
        )
    return params


def describe_target(params: dict[str, str]) -> str:
    """`host:port/dbname`: where the database is, safe to print."""
    host = params.get("host") or params.get("hostaddr") or "localhost"
    dbname = params.get("dbname") or params.get("user") or "postgres"
    return f"{host}:{params.get('port') or '5432'}/{dbname}"


# A connection back in the pool for less than this is trusted without a round trip: under
# load, checking every checkout cost one extra query per statement block.
CHECK_AFTER_IDLE_S = 2.0
_returned_at: weakref.WeakKeyDictionary[Connection, float] = weakref.WeakKeyDictionary()


async def _note_return(conn: Connection) -> None:
    _returned_at[conn] = time.monotonic()


async def _check_if_idle(conn: Connection) -> None:
    """The pool's health check, skipped for a connection that was in use moments ago."""
    returned = _returned_at.pop(conn, None)
    if returned is None or time.monotonic() - returned > CHECK_AFTER_IDLE_S:
        await AsyncConnectionPool.check_connection(conn)


class PostgresDatabase:
    """Owns the connection pool of one PostgreSQL database and translates its failures."""

    def __init__(
        self, url: str, dimension: int, *, min_size: int, max_size: int, timeout: float
    ) -> None:
        params = parse_url(url)
        self.target = describe_target(params)
        self._password = params.get("password")
        self._options = params.get("options", "")
        self._url = url
        self._dimension = dimension
        self._min_size, self._max_size = min_size, max_size
        self._timeout = timeout
        self._pool: AsyncConnectionPool[Connection] | None = None
        self.applied: list[Migration] = []

    async def open(self) -> None:
        """Migrate, then fill the pool; fail within `timeout` when the database is away."""
        await self._migrate()
        pool = AsyncConnectionPool(
            self._url,
            connection_class=Connection,
            kwargs={
                "row_factory": dict_row,
                "connect_timeout": self._connect_timeout(),
                # Short queries only: JIT compiling a wide count or scan costs 100s of ms.
                "options": f"{self._options} -c jit=off".strip(),
            },
            min_size=self._min_size,
            max_size=self._max_size,
            open=False,
            configure=register_vector_async,
            # A connection killed while idle is noticed and replaced before anyone uses it.
            check=_check_if_idle,
            reset=_note_return,
            timeout=self._timeout,
            name=f"mnemo {self.target}",
        )
        try:
            await pool.open(wait=True, timeout=self._timeout)
        except psycopg.Error as exc:
            await pool.close()
            raise self.unavailable(exc) from exc
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection in one transaction, committed when the block ends."""
        if self._pool is None:
            raise StoreUnavailableError("the PostgreSQL store is not open")
        try:
            async with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise self.unavailable(exc) from exc

    def unavailable(self, exc: BaseException) -> StoreUnavailableError:
        reason = redact(str(exc) or type(exc).__name__, self._password)
        return StoreUnavailableError(f"PostgreSQL at {self.target} is unavailable: {reason}")

    def _connect_timeout(self) -> int:
        # libpq counts whole seconds and treats anything under 2 as 2.
        return max(2, round(self._timeout))

    async def _connect(self) -> Connection:
        try:
            return await Connection.connect(
                self._url,
                autocommit=True,
                row_factory=dict_row,
                connect_timeout=self._connect_timeout(),
            )
        except psycopg.Error as exc:
            raise self.unavailable(exc) from exc

    async def _migrate(self) -> None:
        """Apply pending migrations; the advisory lock makes concurrent replicas take turns.

        The lock belongs to this session, so it is released when the connection closes, even
        when a migration fails half-way (its transaction is rolled back).
        """
        self.applied = []
        async with await self._connect() as conn:
            try:
                await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                    "name text NOT NULL, applied_at double precision NOT NULL)"
                )
                cursor = await conn.execute("SELECT version FROM schema_migrations")
                done = {row["version"] for row in await cursor.fetchall()}
                for migration in load_migrations("postgres"):
                    if migration.version not in done:
                        await self._apply(conn, migration)
            except psycopg.OperationalError as exc:
                raise self.unavailable(exc) from exc

    async def _apply(self, conn: Connection, migration: Migration) -> None:
        sql = migration.sql.replace(DIMENSION_TOKEN, str(self._dimension))
        try:
            async with conn.transaction():
                # Without parameters psycopg sends the whole script as one simple query.
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, time.time()),
                )
        except psycopg.OperationalError:
            raise
        except psycopg.Error as exc:
            raise ConfigurationError(
                f"PostgreSQL migration {migration.version:04d}_{migration.name} failed on "
                f"{self.target}: {redact(str(exc), self._password)}"
            ) from exc
        self.applied.append(migration)
