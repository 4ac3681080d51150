//! API clients (issue 19, step 1): the store and its rules on SQLite and PostgreSQL, and
//! `oms clients` as the real binary runs it.

use chrono::Utc;
use oms::clients_cli;
use oms::config::ClientsCommand;
use oms::service::api_clients::{ApiClients, Refusal};
use serde_json::Value;

fn create(client_id: &str, scope: Option<&str>) -> ClientsCommand {
    ClientsCommand::Create {
        client_id: client_id.into(),
        name: Some("shop".into()),
        scope: scope.map(str::to_string),
        json: true,
    }
}

both!(
    a_created_key_gets_in_with_its_secret_only,
    |app| async move {
        let printed = clients_cli::run(app.store.clone(), create("1234", Some("orders:read")))
            .await
            .unwrap();
        let shown: Value = serde_json::from_str(&printed).unwrap();
        let (key, secret) = (
            shown["key"].as_str().unwrap(),
            shown["secret"].as_str().unwrap(),
        );
        assert_eq!(shown["clientId"], "1234");
        assert_eq!(secret.len(), 64, "256 bits, hex");

        let stored = app.store.api_client(key).await.unwrap().unwrap();
        assert_eq!(stored.client_id, "1234");
        assert_eq!(stored.scope.as_deref(), Some("orders:read"));
        assert_eq!(stored.name.as_deref(), Some("shop"));
        assert!(
            !stored.secret_hash.contains(secret),
            "only a hash is stored"
        );

        let clients = ApiClients::new(app.store.clone());
        let ok = clients.check(key, secret).await.unwrap().unwrap();
        assert_eq!(ok.client_id, "1234");
        assert_eq!(
            clients.check(key, &secret[1..]).await.unwrap().unwrap_err(),
            Refusal::WrongSecret
        );
        assert_eq!(
            clients
                .check("omsk_nope", secret)
                .await
                .unwrap()
                .unwrap_err(),
            Refusal::UnknownKey
        );
    }
);

both!(
    a_tenant_may_hold_several_keys_listed_without_secrets,
    |app| async move {
        let clients = ApiClients::new(app.store.clone());
        let a = clients.create("1234", None, None).await.unwrap();
        let b = clients.create("1234", None, None).await.unwrap();
        let c = clients.create("5678", None, None).await.unwrap();
        assert_ne!(a.client.api_key, b.client.api_key);
        let listed = clients_cli::run(app.store.clone(), ClientsCommand::List)
            .await
            .unwrap();
        for issued in [&a, &b, &c] {
            assert!(listed.contains(&issued.client.api_key), "{listed}");
            assert!(!listed.contains(&issued.secret), "{listed}");
        }
        assert_eq!(listed.lines().filter(|l| l.contains("\t1234\t")).count(), 2);
        // Each key's secret is its own.
        assert!(
            clients
                .check(&a.client.api_key, &b.secret)
                .await
                .unwrap()
                .is_err()
        );
    }
);

both!(
    after_a_rotation_the_old_secret_works_for_the_grace_period,
    |app| async move {
        let clients = ApiClients::new(app.store.clone());
        let first = clients.create("1234", None, None).await.unwrap();
        let key = first.client.api_key.as_str();
        let second = clients
            .rotate(key, chrono::Duration::hours(1))
            .await
            .unwrap()
            .unwrap();
        assert!(clients.check(key, &second).await.unwrap().is_ok());
        assert!(clients.check(key, &first.secret).await.unwrap().is_ok());

        // Without a grace period the secret before is refused at once.
        let third = clients
            .rotate(key, chrono::Duration::zero())
            .await
            .unwrap()
            .unwrap();
        assert!(clients.check(key, &third).await.unwrap().is_ok());
        assert_eq!(
            clients.check(key, &second).await.unwrap().unwrap_err(),
            Refusal::WrongSecret
        );
        assert_eq!(
            clients
                .check(key, &first.secret)
                .await
                .unwrap()
                .unwrap_err(),
            Refusal::WrongSecret
        );
        let stored = app.store.api_client(key).await.unwrap().unwrap();
        assert!(stored.previous_valid_until.unwrap() <= Utc::now());
        assert!(
            clients
                .rotate("omsk_nope", chrono::Duration::zero())
                .await
                .unwrap()
                .is_none()
        );
    }
);

both!(
    a_revoked_key_is_refused_and_stays_revoked,
    |app| async move {
        let clients = ApiClients::new(app.store.clone());
        let issued = clients.create("1234", None, None).await.unwrap();
        let key = issued.client.api_key.clone();
        let out = clients_cli::run(
            app.store.clone(),
            ClientsCommand::Revoke { key: key.clone() },
        )
        .await
        .unwrap();
        assert!(out.contains(&key));
        assert_eq!(
            clients
                .check(&key, &issued.secret)
                .await
                .unwrap()
                .unwrap_err(),
            Refusal::Revoked
        );
        // Revoked keys can be neither revoked again nor rotated back to life.
        let again = clients_cli::run(
            app.store.clone(),
            ClientsCommand::Revoke { key: key.clone() },
        )
        .await;
        assert!(again.is_err());
        let rotate = ClientsCommand::Rotate {
            key: key.clone(),
            grace: 60,
            json: true,
        };
        assert!(clients_cli::run(app.store.clone(), rotate).await.is_err());
        let stored = app.store.api_client(&key).await.unwrap().unwrap();
        assert!(stored.revoked_at.is_some());
        assert_eq!(
            clients
                .check(&key, &issued.secret)
                .await
                .unwrap()
                .unwrap_err(),
            Refusal::Revoked
        );
    }
);

/// The real binary: `oms clients create --json` prints one object; a bad client id is refused.
#[tokio::test]
async fn the_cli_creates_lists_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("oms.db").display());
    let oms = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_oms"));
        for (key, _) in std::env::vars() {
            if key.starts_with("OMS_") || key == "DATABASE_URL" {
                cmd.env_remove(key);
            }
        }
        cmd.args(["--database-url", url.as_str()]).args(args);
        cmd.output().unwrap()
    };
    let made = oms(&["clients", "create", "--client-id", "1234", "--json"]);
    assert!(made.status.success(), "{made:?}");
    let shown: Value = serde_json::from_slice(&made.stdout).unwrap();
    let key = shown["key"].as_str().unwrap();
    let listed = oms(&["clients", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains(key));
    let long = "c".repeat(65);
    for bad in ["", "a b", long.as_str()] {
        let out = oms(&["clients", "create", "--client-id", bad]);
        assert!(!out.status.success(), "{bad:?}");
    }
    let bad_scope = oms(&["clients", "create", "--client-id", "1", "--scope", "admin"]);
    assert!(!bad_scope.status.success());
}
