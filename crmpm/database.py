"""The database: declarative base, column types that keep money and time exact, and the session.

Domain services receive a ``Session`` explicitly and only ``flush()``; the edge
(one HTTP request, one CLI command) commits once on success and rolls back on
any error, so a failed request leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal

import psycopg
from psycopg import pq
from sqlalchemy import BigInteger, DateTime, MetaData, Numeric, String, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, make_transient_to_detached, sessionmaker
from sqlalchemy.types import TypeDecorator

from crmpm import search

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY_SCALE = 2
_CENTS = Decimal(10) ** -MONEY_SCALE
# An execution option: the connection's transactions only read (see ``Database.read_session``).
READ_ONLY = "crmpm_read_only"
# Requests whose session reads outside a transaction until its first write (``Database.session``).
SAFE_METHODS = frozenset({"GET", "HEAD"})
# Set on a dialect by ``begin_on_write_engine``: the server's default isolation is READ COMMITTED.
_READS_OUTSIDE_TRANSACTION = "crmpm_reads_outside_transaction"


class Money(TypeDecorator):
    """An exact amount of money with two decimal places.

    PostgreSQL stores ``NUMERIC(18, 2)``. SQLite has no exact decimal type (its
    NUMERIC is a float), so there the amount is stored as integer minor units;
    SUM() over integers stays exact and the result processor turns it back.
    """

    impl = Numeric(18, MONEY_SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value).quantize(_CENTS)
        if dialect.name == "sqlite":
            return int(value.scaleb(MONEY_SCALE))
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-MONEY_SCALE).quantize(_CENTS)
        return Decimal(value).quantize(_CENTS)

    def result_processor(self, dialect, coltype):
        if dialect.name == "sqlite" or self._impl_processor(dialect, coltype) is not None:
            return super().result_processor(dialect, coltype)
        cents = _CENTS

        def process(value):  # process_result_value's, without its dispatch: every money column of every row
            if value is None:
                return None
            return (value if type(value) is Decimal else Decimal(value)).quantize(cents)

        return process

    def _impl_processor(self, dialect, coltype):
        return self.impl_instance.dialect_impl(dialect).result_processor(dialect, coltype)

    @property
    def python_type(self):
        return Decimal


class UTCDateTime(TypeDecorator):
    """A point in time, always zone-aware; stored as UTC on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a zone-aware column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def result_processor(self, dialect, coltype):
        if dialect.name == "sqlite" or self.impl_instance.dialect_impl(dialect).result_processor(
                dialect, coltype) is not None:
            return super().result_processor(dialect, coltype)
        utc = timezone.utc

        def process(value):  # process_result_value's; PostgreSQL connections speak UTC (make_engine): as is
            if value is None or value.tzinfo is utc:
                return value
            return value.replace(tzinfo=utc) if value.tzinfo is None else value.astimezone(utc)

        return process

    @property
    def python_type(self):
        return datetime


class ProjectLocalDateTime(TypeDecorator):
    """A wall-clock time in a project's own time zone (as P6 keeps dates), stored without a zone.

    The zone is the project's (its plan names it); an aware datetime here would be
    ambiguous, so it is refused rather than silently converted.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            raise ValueError("project-local times are naive; convert to the project's zone first")
        return value.replace(second=0, microsecond=0) if value is not None else None

    @property
    def python_type(self):
        return datetime


class comma_joined(GenericFunction):  # noqa: N801 - a SQL function's name
    """The text values of a group joined with commas (``string_agg`` / ``group_concat``), in no set order.

    SQLAlchemy's ``aggregate_strings`` sends its separator as a parameter rendered into the statement on
    every execution, so the statement's text is rebuilt each time; here the comma is part of the SQL.
    """

    type = String()
    inherit_cache = True


@compiles(comma_joined)
def _comma_joined(element, compiler, **kw):
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


@compiles(comma_joined, "sqlite")
def _comma_joined_sqlite(element, compiler, **kw):
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


class Base(DeclarativeBase):
    """The declarative base of every crmpm table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {Decimal: Money(), datetime: UTCDateTime()}


def utcnow() -> datetime:
    """The current time, zone-aware, in UTC."""
    return datetime.now(timezone.utc)


class DescribedOnDemandCursor(psycopg.Cursor):
    """psycopg's cursor, whose ``description`` makes its ``Column`` objects when they are first looked at.

    SQLAlchemy asks every statement's cursor for its description, but for a statement it has run before
    (its compiled form is cached, so are the result's columns) it only checks that there is one.
    psycopg builds a ``Column`` per result column on every ask: some 3 µs each, a tenth of a small API
    request's time. The columns are made from the result the description was taken from, whenever asked.
    """

    @property
    def description(self):
        result = self.pgresult
        if result and (result.nfields or result.status in _RESULTS_WITH_TUPLES):
            return _Columns(self, result)
        return None


_RESULTS_WITH_TUPLES = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE, pq.ExecStatus.TUPLES_CHUNK)


class _Columns(Sequence):
    """A result's ``psycopg.Column`` list, made on first use."""

    __slots__ = ("_cursor", "_result", "_columns")

    def __init__(self, cursor: psycopg.Cursor, result) -> None:
        self._cursor, self._result, self._columns = cursor, result, None

    def _made(self) -> list:
        if self._columns is None:
            cursor = self._cursor
            if cursor.pgresult is not self._result:
                # The cursor has moved on: describe the result this description was taken from.
                cursor = _DescribedResult(self._result, cursor)
            self._columns = [psycopg.Column(cursor, index) for index in range(self._result.nfields)]
        return self._columns

    def __len__(self) -> int:
        return self._result.nfields

    def __getitem__(self, index):
        return self._made()[index]

    def __iter__(self):
        return iter(self._made())

    def __eq__(self, other) -> bool:
        return list(self) == other

    def __repr__(self) -> str:
        return repr(self._made())


class _DescribedResult:
    """What ``psycopg.Column`` reads from a cursor, for a result the cursor no longer holds."""

    def __init__(self, result, cursor: psycopg.Cursor) -> None:
        self.pgresult, self.adapters, self._encoding = result, cursor.adapters, cursor._encoding


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, a busy timeout and write-locking transactions."""
    if url.startswith("sqlite"):
        connect_args = kwargs.setdefault("connect_args", {})
        connect_args.setdefault("timeout", 30)
        # SQLAlchemy emits BEGIN itself (below), instead of pysqlite's lazy, deferred one.
        connect_args["isolation_level"] = None
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
            # SQLite's lower() folds ASCII only; search compares through this one (crmpm.search).
            dbapi_connection.create_function(search.SQLITE_FUNCTION, 1, search.fold, deterministic=True)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            if connection.get_execution_options().get(READ_ONLY):
                # A reader (a streamed download) takes no write lock: in WAL mode it never blocks a writer.
                connection.exec_driver_sql("BEGIN DEFERRED")
                return
            # SQLite has no row locks: an IMMEDIATE transaction takes the write lock up front, so
            # read-check-write sequences (budget invariants) cannot interleave between processes.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No pool_pre_ping by default: it costs a round trip on every checkout (every request). A connection
    # the server dropped fails its first statement instead; SQLAlchemy then discards every pooled connection
    # older than the failure, so after a database restart each process answers one request with 503.
    if "+psycopg" in url.split("://", 1)[0]:
        connect_args = kwargs.setdefault("connect_args", {})
        connect_args.setdefault("cursor_factory", DescribedOnDemandCursor)
        # Times are stored and read as UTC (UTCDateTime): a session in UTC hands them over as they are, and
        # SQL on dates (now(), a cast to date) means the same on every server, whatever its own zone.
        connect_args.setdefault("options", "-c TimeZone=UTC")
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "begin")
    def _read_only_begin(connection):
        if connection.get_execution_options().get(READ_ONLY) and connection.dialect.name == "postgresql":
            # The first statement of the transaction (the driver sent BEGIN): nothing in it can write.
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")

    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "first_connect")
        def _postgresql_folding(dbapi_connection, _record):
            # lower() follows the database's LC_CTYPE: under C/POSIX it leaves non-ASCII letters as they
            # are, and search (crmpm.search) lowers under the ICU root collation instead.
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT lower('ЛАДОГА') = 'ладога'")
            folds = cursor.fetchone()[0]
            cursor.close()
            dbapi_connection.rollback()
            setattr(engine.dialect, search.COLLATION_ATTRIBUTE, None if folds else search.ICU_COLLATION)

    return engine


def begin_on_write_engine(engine: Engine, *, pre_ping: bool = False) -> Engine:
    """A second engine on ``engine``'s PostgreSQL database whose connections read outside any transaction.

    Its connections are in autocommit mode: a SELECT costs no BEGIN and no COMMIT round trip, and the
    request's commit sends nothing. Before the first statement that may write (anything but a plain
    SELECT: a flush, a Core or text statement, ``SELECT ... FOR UPDATE``, a SAVEPOINT, a server-side
    cursor) it sends BEGIN, and from there the connection is in one transaction like any other: the
    session's commit commits it (psycopg sends COMMIT whenever the server has a transaction open) and
    its rollback rolls it back.
    Writes through the driver itself (COPY) call ``begin_writing`` first.

    Reading outside a transaction sees what a READ COMMITTED transaction would, since there every
    statement takes its own snapshot too; should the server's default isolation be stricter, every
    statement begins the transaction, as on the ordinary engine. A SELECT built with SQLAlchemy is taken
    at its word: a function that writes or locks for the transaction (``nextval``, ``set_config``,
    ``pg_advisory_xact_lock``) goes in a text statement, which begins it (crmpm has one: ``nextval``).
    """

    idle = pq.TransactionStatus.IDLE
    reads_first = make_engine(engine.url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT",
                              pool_pre_ping=pre_ping)

    @event.listens_for(reads_first, "first_connect")
    def _default_isolation(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("SHOW default_transaction_isolation")
        setattr(reads_first.dialect, _READS_OUTSIDE_TRANSACTION, cursor.fetchone()[0] == "read committed")
        cursor.close()
        dbapi_connection.rollback()

    @event.listens_for(reads_first, "before_cursor_execute")
    def _begin_before_writing(connection, cursor, _statement, _parameters, context, _executemany):
        driver = cursor.connection
        if driver.info.transaction_status != idle:
            return
        if _only_reads(context) and getattr(connection.dialect, _READS_OUTSIDE_TRANSACTION, False):
            return
        driver.execute("BEGIN")

    return reads_first


def _only_reads(context) -> bool:
    """Whether this execution is a SELECT that takes no row locks, on an ordinary cursor (a server-side
    one, for ``yield_per``, is a DECLARE, which lives in a transaction)."""
    from sqlalchemy.sql.selectable import GenerativeSelect

    statement = getattr(context.compiled, "statement", None)
    return (isinstance(statement, GenerativeSelect) and statement._for_update_arg is None
            and not context._is_server_side)


def begin_writing(connection) -> None:
    """Begin ``connection``'s transaction before writing through the driver itself (COPY, a raw cursor).

    A GET's connection reads outside a transaction (``begin_on_write_engine``); statements sent through
    SQLAlchemy begin it on their own, the driver's own cursor does not.
    """
    if connection.dialect.name != "postgresql":
        return

    driver = connection.connection.driver_connection
    if driver.autocommit and driver.info.transaction_status == pq.TransactionStatus.IDLE:
        driver.execute("BEGIN")


class Database:
    """Hands out sessions for the current app; bound to each app by ``init_app``.

    Created unbound at import time and bound by the app factory, so nothing
    connects anywhere until an app exists, and several apps (tests) can coexist.
    A request gets one session, closed when the app context ends; committing is
    the edge's job (see ``crmpm.app``). On PostgreSQL a GET or HEAD request's
    session reads outside a transaction and begins one at its first write
    (``begin_on_write_engine``): most such requests write nothing and so save
    the BEGIN and COMMIT round trips; one that writes (a token's last-used
    stamp) commits as any other.
    """

    extension_key = "crmpm.database"

    def init_app(self, app) -> None:
        """Create the engine (or take ``DATABASE_BIND``, a test's connection) and the session factory."""
        bind = app.config.get("DATABASE_BIND")
        # Sessions know their app's settings (crmpm.jobs hands jobs to the app's engine after a commit).
        options = {"expire_on_commit": False, "info": {"crmpm.config": app.config}}
        pre_ping = bool(app.config.get("DATABASE_PRE_PING"))
        if bind is None:
            engine = make_engine(app.config["DATABASE_URL"], pool_pre_ping=pre_ping)
            bind = engine
        else:
            engine = bind if isinstance(bind, Engine) else bind.engine
            if not isinstance(bind, Engine):
                # Tests run each case inside an outer transaction; the app's commits become savepoints.
                options["join_transaction_mode"] = "create_savepoint"
        state = _DatabaseState(engine=engine, factory=sessionmaker(bind=bind, **options))
        if bind is engine and engine.dialect.name == "postgresql":
            # Made now (it connects on first use), so that threads serving requests never race to make it.
            state.begin_on_write = (engine, begin_on_write_engine(engine, pre_ping=pre_ping))
        elif bind is engine and engine.dialect.name == "sqlite":
            # SQLite: a GET's transaction is a deferred one, which takes the write lock only at its first
            # write. Reads never wait for a writer in WAL mode, so the pages and the API keep answering
            # while a job (an import) holds the write lock; a GET that writes waits for it as before.
            state.begin_on_write = (engine, engine.execution_options(**{READ_ONLY: True}))
        app.extensions[self.extension_key] = state
        app.teardown_appcontext(self._close_session)

    @staticmethod
    def _state():
        from flask import current_app

        return current_app.extensions[Database.extension_key]

    @property
    def engine(self) -> Engine:
        """The engine of the current app."""
        return self._state().engine

    @property
    def session(self) -> Session:
        """The session of the current app context, opened on first use."""
        from flask import g

        if "crmpm_session" not in g:
            g.crmpm_session = self._state().request_session()
        return g.crmpm_session

    def new_session(self) -> Session:
        """A fresh session of the current app, not tied to the app context."""
        return self._state().factory()

    def read_session(self) -> Session:
        """A fresh session that only reads, not tied to the app context; its owner closes it.

        For work that outlives the request (a streamed download): on SQLite its
        transaction is a deferred one that never takes the write lock, on
        PostgreSQL a READ ONLY one. Bound to a test's connection, it joins that
        connection's transaction and leaves it as it found it.
        """
        state = self._state()
        bind = state.factory.kw.get("bind")
        if isinstance(bind, Engine):
            if state.read_engine is None or state.read_engine[0] is not bind:
                state.read_engine = (bind, bind.execution_options(**{READ_ONLY: True}))
            return state.factory(bind=state.read_engine[1])
        return state.factory(join_transaction_mode="rollback_only")

    @staticmethod
    def _close_session(_exc=None) -> None:
        from flask import g

        session = g.pop("crmpm_session", None)
        if session is not None:
            # Whatever was not committed by the edge is rolled back here.
            session.close()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work (a CLI command): commit on success, roll back on any error."""
        session = self.new_session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


class _DatabaseState:
    def __init__(self, *, engine: Engine, factory: sessionmaker) -> None:
        self.engine = engine
        self.factory = factory
        self.read_engine: tuple[Engine, Engine] | None = None  # (engine, its read-only view)
        self.begin_on_write: tuple[Engine, Engine] | None = None  # (engine, begin_on_write_engine of it)

    def request_session(self) -> Session:
        """A session for the current request: for a GET or HEAD, one that begins on write (PostgreSQL) or
        takes SQLite's write lock only when it writes."""
        from flask import has_request_context, request

        # Bound to anything else (a test's connection), the session joins it as before.
        if (self.begin_on_write is None or self.begin_on_write[0] is not self.factory.kw.get("bind")
                or not has_request_context() or request.method not in SAFE_METHODS):
            return self.factory()
        return self.factory(bind=self.begin_on_write[1])


db = Database()


def roll_back_savepoint(savepoint: SessionTransaction) -> None:
    """Roll back ``savepoint`` (a ``session.begin_nested()``) and expire every object its session holds.

    SQLAlchemy expires only the objects changed in a savepoint when it rolls one back, and discards those it saw
    created there. An object loaded there of a row written there is neither: a row a Core statement inserted
    (``bulk_insert``), or one whose new object was collected and loaded again (through a relationship). It would
    stay in the session as a copy of a row that is gone: a read by id would return it, and on SQLite, which
    gives a freed id again, the next row's object would clash with it ("Identity map already had an identity").
    Expired, each object is read again when next used, or found gone. For a savepoint whose work may have
    written rows by Core statements or that runs code it does not know (a consumer); the services that create
    rows keep the new objects in the graph they build (``Account.eps_node``), so a plain rollback suffices
    after them.
    """
    savepoint.rollback()
    savepoint.session.expire_all()


def attach_loaded(session: Session, model: type[Base], values: dict) -> Base:
    """The ``model`` object whose column attributes are ``values`` (all of them, just read by a Core
    statement), persistent in ``session`` as if the ORM had loaded it; its relationships load on first use.

    For a row read on every request (the caller), where the ORM's loading machinery costs more than the
    statement. If the session already holds that row's object, that object is returned.
    """
    mapper = model.__mapper__
    key = mapper.identity_key_from_primary_key(
        [values[mapper.get_property_by_column(column).key] for column in mapper.primary_key])
    known = session.identity_map.get(key)
    if known is not None:
        return known
    instance = mapper.class_manager.new_instance()
    instance.__dict__.update(values)
    make_transient_to_detached(instance)  # what is set counts as loaded, unset attributes as expired
    session.add(instance)
    return instance


# Per-transaction memo

_MEMO_KEY = "crmpm.transaction_memo"


def transaction_memo(session: Session) -> dict:
    """A dict for answers read from the database that stay true until this session writes or ends.

    Emptied on every flush, every ORM statement that is not a SELECT, every commit and rollback (and by
    ``bulk_insert``), so what is kept never outlives the data it was read from. For a question one
    request asks several times (the caller's grant paths), not a cache between requests.
    """
    return session.info.setdefault(_MEMO_KEY, {})


def forget_transaction_memo(session: Session, *_args) -> None:
    """Empty ``transaction_memo(session)``."""
    session.info.pop(_MEMO_KEY, None)


def _forget_on_write(orm_execute_state) -> None:
    if not orm_execute_state.is_select:
        forget_transaction_memo(orm_execute_state.session)


for _event in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _event, forget_transaction_memo)
event.listen(Session, "do_orm_execute", _forget_on_write)


def bulk_insert(session: Session, table, rows: list[dict]) -> None:
    """Insert many rows into ``table`` (a Core ``Table``) in the session's transaction, as fast as the backend allows.

    PostgreSQL gets one COPY (an executemany would cost a round trip per row);
    SQLite an executemany. Every row must carry the same keys; columns left out
    get their Python-side defaults. Values are bound as on any insert: money and
    times pass through their column types, JSON columns are serialized.
    """
    if not rows:
        return
    forget_transaction_memo(session)
    connection = session.connection()
    begin_writing(connection)
    if connection.dialect.name != "postgresql":
        from sqlalchemy import insert

        connection.execute(insert(table), rows)
        return
    import json

    from psycopg.types.json import Json

    given = list(rows[0])
    defaults = [(column.name, column.default) for column in table.columns
                if column.name not in given and column.default is not None and not column.default.is_sequence]
    names = given + [name for name, _default in defaults]
    converters = []
    for name in given:
        column_type = table.columns[name].type
        if column_type._type_affinity.__name__ == "JSON":
            converters.append(lambda value: None if value is None else Json(value, dumps=lambda v: json.dumps(
                v, default=str)))
        else:
            process = column_type.bind_processor(connection.dialect)
            converters.append(process)
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            values = [value if convert is None else convert(value)
                      for value, convert in zip((row[name] for name in given), converters)]
            for _name, default in defaults:
                values.append(default.arg(None) if default.is_callable else default.arg)
            copy.write_row(values)
