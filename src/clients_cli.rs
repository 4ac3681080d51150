//! `oms clients …`: what each subcommand does and prints, apart from `main` so that tests can
//! run it against a store.

use std::sync::Arc;

use anyhow::Context;
use serde_json::json;

use crate::config::ClientsCommand;
use crate::service::api_clients::{ApiClients, Issued};
use crate::store::OrderStore;

/// Runs one subcommand and returns what it prints.
pub async fn run(store: Arc<dyn OrderStore>, action: ClientsCommand) -> anyhow::Result<String> {
    let clients = ApiClients::new(store);
    match action {
        ClientsCommand::Create {
            client_id,
            name,
            scope,
            json,
        } => {
            let issued = clients
                .create(&client_id, name.as_deref(), scope.as_deref())
                .await
                .context("creating the API client")?;
            Ok(shown(&issued, json))
        }
        ClientsCommand::List => {
            let mut out = String::from("KEY\tCLIENT_ID\tSCOPE\tNAME\tCREATED\tREVOKED\n");
            for c in clients.list().await.context("listing API clients")? {
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\n",
                    c.api_key,
                    c.client_id,
                    c.scope.as_deref().unwrap_or("-"),
                    c.name.as_deref().unwrap_or("-"),
                    c.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
                    c.revoked_at.map_or("-".to_string(), |t| t
                        .format("%Y-%m-%dT%H:%M:%SZ")
                        .to_string()),
                ));
            }
            Ok(out)
        }
        ClientsCommand::Revoke { key } => {
            if !clients.revoke(&key).await.context("revoking")? {
                anyhow::bail!("no live API client has the key {key}");
            }
            Ok(format!("revoked {key}\n"))
        }
        ClientsCommand::Rotate { key, grace, json } => {
            let grace = chrono::Duration::seconds(i64::from(grace));
            let secret = clients
                .rotate(&key, grace)
                .await
                .context("rotating")?
                .with_context(|| format!("no live API client has the key {key}"))?;
            let client = clients
                .list()
                .await?
                .into_iter()
                .find(|c| c.api_key == key)
                .context("the rotated key disappeared")?;
            Ok(shown(&Issued { client, secret }, json))
        }
    }
}

fn shown(issued: &Issued, json: bool) -> String {
    if json {
        format!(
            "{}\n",
            json!({
                "key": issued.client.api_key,
                "secret": issued.secret,
                "clientId": issued.client.client_id,
            })
        )
    } else {
        format!(
            "key:       {}\nsecret:    {}\nclient_id: {}\nThe secret is shown only now; keep it.\n",
            issued.client.api_key, issued.secret, issued.client.client_id
        )
    }
}
