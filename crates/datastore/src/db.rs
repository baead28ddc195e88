//! The one place that knows there are two backends.
//!
//! Operations build a [`Stmt`] (SQL with `$1, $2, ...` placeholders plus [`Arg`]s) and run it on a
//! [`Tx`]; `Tx` binds the arguments to a native SQLite or PostgreSQL query and wraps the row in
//! [`DbRow`]. SQLite accepts `$N` placeholders, so the SQL text is shared.

use std::borrow::Cow;

use sqlx::{
    AssertSqlSafe, Decode, Postgres, Row as _, Sqlite, Transaction, Type, postgres::PgRow,
    sqlite::SqliteRow,
};

use crate::{ChangeKind, Datastore, DatastoreError, events, now_unix};

/// A bound value. Only the column types the schema uses.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(bool),
    Bytes(Vec<u8>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Self::Text(Some(v))
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_owned()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Self::Text(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Self::Bytes(v)
    }
}

/// A statement and its arguments.
pub(crate) struct Stmt {
    sql: Cow<'static, str>,
    args: Vec<Arg>,
}

/// Starts a statement with fixed SQL.
pub(crate) fn stmt(sql: &'static str) -> Stmt {
    Stmt {
        sql: Cow::Borrowed(sql),
        args: Vec::new(),
    }
}

impl Stmt {
    /// Binds the next `$N`.
    pub(crate) fn bind(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }
}

/// Builds a statement whose shape depends on the request (optional filters, `IN` lists).
///
/// SQL text can only be appended from `&'static str`; every value goes through a placeholder.
/// That is what makes handing the finished string to `AssertSqlSafe` sound.
#[derive(Default)]
pub(crate) struct SqlBuilder {
    sql: String,
    args: Vec<Arg>,
}

impl SqlBuilder {
    pub(crate) fn push(&mut self, sql: &'static str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder for `arg`.
    pub(crate) fn push_bind(&mut self, arg: impl Into<Arg>) -> &mut Self {
        self.args.push(arg.into());
        self.sql.push('$');
        self.sql.push_str(&self.args.len().to_string());
        self
    }

    /// Appends `$a, $b, ...`, one placeholder per item (the caller ensures at least one).
    pub(crate) fn push_bind_list<A: Into<Arg>>(
        &mut self,
        items: impl IntoIterator<Item = A>,
    ) -> &mut Self {
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.push_bind(item);
        }
        self
    }

    pub(crate) fn finish(self) -> Stmt {
        Stmt {
            sql: Cow::Owned(self.sql),
            args: self.args,
        }
    }
}

/// Turns a [`Stmt`] into a native query for `$db`.
macro_rules! native {
    ($db:ty, $stmt:expr) => {{
        let Stmt { sql, args } = $stmt;
        let mut q = match sql {
            Cow::Borrowed(s) => sqlx::query::<$db>(s),
            Cow::Owned(s) => sqlx::query::<$db>(AssertSqlSafe(s)),
        };
        for arg in args {
            q = match arg {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Bytes(v) => q.bind(v),
            };
        }
        q
    }};
}

/// A row from either backend.
pub(crate) enum DbRow {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl DbRow {
    /// Reads column `col`; a type mismatch means the schema and the code disagree.
    pub(crate) fn get<T>(&self, col: &str) -> Result<T, DatastoreError>
    where
        T: for<'r> Decode<'r, Sqlite>
            + Type<Sqlite>
            + for<'r> Decode<'r, Postgres>
            + Type<Postgres>,
    {
        Ok(match self {
            Self::Sqlite(r) => r.try_get(col)?,
            Self::Postgres(r) => r.try_get(col)?,
        })
    }
}

enum Conn {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A transaction on either backend. Dropping it without [`Tx::commit`] rolls it back.
pub(crate) struct Tx<'a> {
    ds: &'a Datastore,
    conn: Conn,
    events: Vec<ChangeKind>,
}

impl<'a> Tx<'a> {
    /// A write transaction. On SQLite it is `BEGIN IMMEDIATE`: it takes the write lock up front
    /// (waiting up to the busy timeout), so a transaction that reads and then writes can never
    /// fail with `SQLITE_BUSY` half-way.
    pub(crate) async fn write(ds: &'a Datastore) -> Result<Self, DatastoreError> {
        let conn = match ds.pools() {
            crate::Pools::Sqlite(p) => Conn::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            crate::Pools::Postgres(p) => Conn::Postgres(p.begin().await?),
        };
        Ok(Self {
            ds,
            conn,
            events: Vec::new(),
        })
    }

    /// A read-only transaction: one consistent snapshot for all its statements.
    pub(crate) async fn read(ds: &'a Datastore) -> Result<Self, DatastoreError> {
        let conn = match ds.pools() {
            crate::Pools::Sqlite(p) => Conn::Sqlite(p.begin().await?),
            crate::Pools::Postgres(p) => Conn::Postgres(
                p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await?,
            ),
        };
        Ok(Self {
            ds,
            conn,
            events: Vec::new(),
        })
    }

    /// Whether this is a PostgreSQL transaction: row locks (`FOR UPDATE`, ...) are needed there
    /// and do not parse on SQLite, where `BEGIN IMMEDIATE` already serializes writers.
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self.conn, Conn::Postgres(_))
    }

    /// Runs a statement; returns the number of rows it changed.
    pub(crate) async fn execute(&mut self, s: Stmt) -> Result<u64, DatastoreError> {
        Ok(match &mut self.conn {
            Conn::Sqlite(c) => native!(Sqlite, s).execute(&mut **c).await?.rows_affected(),
            Conn::Postgres(c) => native!(Postgres, s)
                .execute(&mut **c)
                .await?
                .rows_affected(),
        })
    }

    pub(crate) async fn fetch_all(&mut self, s: Stmt) -> Result<Vec<DbRow>, DatastoreError> {
        Ok(match &mut self.conn {
            Conn::Sqlite(c) => native!(Sqlite, s)
                .fetch_all(&mut **c)
                .await?
                .into_iter()
                .map(DbRow::Sqlite)
                .collect(),
            Conn::Postgres(c) => native!(Postgres, s)
                .fetch_all(&mut **c)
                .await?
                .into_iter()
                .map(DbRow::Postgres)
                .collect(),
        })
    }

    pub(crate) async fn fetch_optional(
        &mut self,
        s: Stmt,
    ) -> Result<Option<DbRow>, DatastoreError> {
        Ok(match &mut self.conn {
            Conn::Sqlite(c) => native!(Sqlite, s)
                .fetch_optional(&mut **c)
                .await?
                .map(DbRow::Sqlite),
            Conn::Postgres(c) => native!(Postgres, s)
                .fetch_optional(&mut **c)
                .await?
                .map(DbRow::Postgres),
        })
    }

    /// Queues a change event; [`Tx::commit`] writes it in this transaction.
    pub(crate) fn record(&mut self, kind: ChangeKind) {
        self.events.push(kind);
    }

    /// Appends the queued events, then commits. Returns `Ok` only once the commit is durable.
    ///
    /// Events go last on purpose: taking the log counter's row lock is the final step, so on
    /// PostgreSQL event-writing transactions hold that lock only for the commit itself, commit in
    /// `seq` order (the log has no gaps a reader could skip past), and never wait on another
    /// transaction's data rows while holding it (no deadlock).
    pub(crate) async fn commit(mut self) -> Result<(), DatastoreError> {
        let mut last_seq = None;
        if !self.events.is_empty() {
            let n = i64::try_from(self.events.len()).unwrap_or(i64::MAX);
            let row = self
                .fetch_optional(
                    stmt(
                        "UPDATE event_counter SET value = value + $1 WHERE id = 1 RETURNING value",
                    )
                    .bind(n),
                )
                .await?
                .ok_or_else(|| DatastoreError::corrupt("event_counter row is missing"))?;
            let last: i64 = row.get("value")?;
            let at = now_unix();
            let events = std::mem::take(&mut self.events);
            for (seq, kind) in (last - n + 1..).zip(events) {
                self.execute(events::insert(seq, &kind, at)).await?;
            }
            if matches!(self.conn, Conn::Postgres(_)) {
                // Delivered to listeners only when (and if) the transaction commits.
                self.execute(stmt("SELECT pg_notify('lanyard_events', $1)").bind(last.to_string()))
                    .await?;
            }
            last_seq = Some(last);
        }
        match self.conn {
            Conn::Sqlite(c) => c.commit().await?,
            Conn::Postgres(c) => c.commit().await?,
        }
        if let Some(seq) = last_seq {
            self.ds.advance(seq);
        }
        Ok(())
    }
}
