//! The API client statements, for both backends (see the parent module).

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::RowsAffected;
use crate::store::clients::ApiClient;

const COLUMNS: &str = "api_key, client_id, name, scope, secret_hash, previous_secret_hash, \
                       previous_valid_until, created_at, revoked_at";

pub(in crate::store) trait ClientStatements: Database {
    async fn insert_api_client(
        conn: &mut Self::Connection,
        c: &ApiClient,
    ) -> Result<(), sqlx::Error>;
    async fn api_client(
        conn: &mut Self::Connection,
        api_key: &str,
    ) -> Result<Option<ApiClient>, sqlx::Error>;
    async fn api_clients(conn: &mut Self::Connection) -> Result<Vec<ApiClient>, sqlx::Error>;
    async fn revoke_api_client(
        conn: &mut Self::Connection,
        api_key: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error>;
    async fn revoked_api_keys(
        conn: &mut Self::Connection,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, sqlx::Error>;
    async fn rotate_api_client(
        conn: &mut Self::Connection,
        api_key: &str,
        secret_hash: &str,
        previous_valid_until: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error>;
}

impl<DB> ClientStatements for DB
where
    DB: Database,
    DB::QueryResult: RowsAffected,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<DateTime<Utc>>: Encode<'q, DB> + Type<DB>,
    for<'r> ApiClient: FromRow<'r, DB::Row>,
    for<'r> (String,): FromRow<'r, DB::Row>,
{
    async fn revoked_api_keys(
        conn: &mut DB::Connection,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, sqlx::Error> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT api_key FROM api_clients WHERE revoked_at >= $1")
                .bind(since)
                .fetch_all(conn)
                .await?;
        Ok(rows.into_iter().map(|(k,)| k).collect())
    }

    async fn insert_api_client(
        conn: &mut DB::Connection,
        c: &ApiClient,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(&format!(
            "INSERT INTO api_clients ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(c.api_key.as_str())
        .bind(c.client_id.as_str())
        .bind(c.name.as_deref())
        .bind(c.scope.as_deref())
        .bind(c.secret_hash.as_str())
        .bind(c.previous_secret_hash.as_deref())
        .bind(c.previous_valid_until)
        .bind(c.created_at)
        .bind(c.revoked_at)
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn api_client(
        conn: &mut DB::Connection,
        api_key: &str,
    ) -> Result<Option<ApiClient>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM api_clients WHERE api_key = $1"
        ))
        .bind(api_key)
        .fetch_optional(conn)
        .await
    }

    async fn api_clients(conn: &mut DB::Connection) -> Result<Vec<ApiClient>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM api_clients ORDER BY created_at, api_key"
        ))
        .fetch_all(conn)
        .await
    }

    async fn revoke_api_client(
        conn: &mut DB::Connection,
        api_key: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE api_clients SET revoked_at = $2 WHERE api_key = $1 AND revoked_at IS NULL",
        )
        .bind(api_key)
        .bind(at)
        .execute(conn)
        .await?;
        Ok(done.rows() == 1)
    }

    async fn rotate_api_client(
        conn: &mut DB::Connection,
        api_key: &str,
        secret_hash: &str,
        previous_valid_until: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE api_clients SET previous_secret_hash = secret_hash, \
             previous_valid_until = $3, secret_hash = $2 \
             WHERE api_key = $1 AND revoked_at IS NULL",
        )
        .bind(api_key)
        .bind(secret_hash)
        .bind(previous_valid_until)
        .execute(conn)
        .await?;
        Ok(done.rows() == 1)
    }
}
