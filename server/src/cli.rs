//! `hookline [serve] | migrate | user … | api-key … | portal-link … | secrets rotate-key |
//! health`.

use crate::config::{ApiKeyCommand, Cli, Command, PortalLinkCommand, SecretsCommand, UserCommand};
use crate::startup;
use anyhow::Context;
use app::backend::Actor;
use app::backend::access::users::{NewUser, Users};
use app::error::AppError;
use clap::Parser;
use std::io::BufRead;
use std::process::ExitCode;

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let traces = match crate::telemetry::init(cli.log_format, cli.otlp_endpoint.as_ref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: traces (--otlp-endpoint): {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let out = Out { json: cli.json };
    let command = cli.command.unwrap_or(Command::Serve(cli.serve));
    let result = match command {
        Command::Serve(_) | Command::Bench(_) if out.json => Err(anyhow::anyhow!(
            "--json is for migrate, user, api-key, portal-link, secrets and health; serve logs JSON with --log-format json"
        )),
        Command::Serve(args) => serve(args).await,
        Command::Migrate(db) => migrate(&db.url, &out).await,
        Command::User(cmd) => user(cmd, &out).await,
        Command::ApiKey(cmd) => api_key(cmd, &out).await,
        Command::Bench(args) => crate::bench::run(args).await,
        Command::Secrets(cmd) => secrets(cmd, &out).await,
        Command::Health(args) => health(args, &out).await,
        Command::PortalLink(cmd) => portal_link(cmd, &out).await,
    };
    if let Some(provider) = traces {
        crate::telemetry::traces::shutdown(provider).await;
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if out.json => {
            eprintln!("{}", serde_json::json!({ "error": format!("{e:#}") }));
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Where a command's answer goes: text for people, or with `--json` one JSON document.
struct Out {
    json: bool,
}

impl Out {
    /// Prints `text` (its lines), or `value` as JSON.
    fn answer(&self, text: impl FnOnce() -> String, value: serde_json::Value) {
        if self.json {
            println!("{value}");
        } else {
            println!("{}", text());
        }
    }
}

fn json_of(v: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

fn user_json(u: &app::types::UserView) -> serde_json::Value {
    serde_json::json!({
        "id": u.id,
        "email": u.email,
        "role": u.role.as_str(),
        "created_at": app::time_fmt::utc(u.created_at),
        "last_login_at": u.last_login_at.map(app::time_fmt::utc),
    })
}

async fn serve(args: crate::config::ServeArgs) -> anyhow::Result<()> {
    let server = startup::build(&args).await?;
    server.run(startup::shutdown_signal()).await
}

/// The portal links of the database `db`, signing with its master key (never created here).
async fn portal_links(
    keys: &crate::config::MasterKeyArgs,
    db: &crate::config::DatabaseArgs,
) -> anyhow::Result<(
    app::backend::Db,
    app::backend::access::portal_links::PortalLinks,
)> {
    let key = crate::keys::master_key(keys, &db.url, false)?;
    let db = startup::open_database(&db.url).await?;
    let links = app::backend::access::portal_links::PortalLinks::new(
        db.clone(),
        &app::backend::crypto::Keyring::new(key),
    );
    Ok((db, links))
}

async fn portal_link(cmd: PortalLinkCommand, out: &Out) -> anyhow::Result<()> {
    match cmd {
        PortalLinkCommand::Create {
            tenant,
            capabilities,
            expires_in,
            public_url,
            keys,
            db,
        } => {
            let (db, mut links) = portal_links(&keys, &db).await?;
            if let Some(url) = public_url {
                links.public_url = url.as_str().to_owned();
            }
            let input = app::types::portal::NewPortalLink {
                tenant,
                capabilities,
                expires_in,
            };
            let created = links
                .create(&Actor::cli(), &input)
                .await
                .map_err(describe)?;
            let l = &created.portal_link;
            out.answer(
                || {
                    format!(
                        "created portal link {} for tenant {} ({}), until {}; its URL is shown only now:\n{}",
                        l.id,
                        l.tenant,
                        l.capabilities.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "),
                        app::time_fmt::utc(l.expires_at.0),
                        created.url
                    )
                },
                json_of(&created),
            );
            db.close().await;
        }
        PortalLinkCommand::List { tenant, keys, db } => {
            let (db, links) = portal_links(&keys, &db).await?;
            let page = links
                .page(
                    &Actor::cli(),
                    tenant.as_deref(),
                    None,
                    app::types::PageLimit::MAX,
                )
                .await
                .map_err(describe)?;
            out.answer(
                || {
                    let mut t = format!(
                        "{:<30} {:<20} {:<20} {:<8} CAPABILITIES",
                        "ID", "TENANT", "EXPIRES", "STATUS"
                    );
                    for l in &page.items {
                        let status = if l.revoked_at.is_some() {
                            "revoked"
                        } else if l.expires_at.0 <= app::backend::now_ms() {
                            "expired"
                        } else {
                            "active"
                        };
                        t.push_str(&format!(
                            "\n{:<30} {:<20} {:<20} {:<8} {}",
                            l.id,
                            l.tenant,
                            app::time_fmt::utc(l.expires_at.0),
                            status,
                            l.capabilities
                                .iter()
                                .map(|c| c.as_str())
                                .collect::<Vec<_>>()
                                .join(",")
                        ));
                    }
                    t
                },
                json_of(&page.items),
            );
            db.close().await;
        }
        PortalLinkCommand::Revoke { id, keys, db } => {
            let id = app::types::ids::PortalLinkId::parse(&id)
                .map_err(|e| anyhow::anyhow!("--id: {e}"))?;
            let (db, links) = portal_links(&keys, &db).await?;
            let revoked = links.revoke(&Actor::cli(), &id).await.map_err(describe)?;
            out.answer(
                || {
                    format!(
                        "revoked portal link {} of tenant {}",
                        revoked.id, revoked.tenant
                    )
                },
                json_of(&revoked),
            );
            db.close().await;
        }
    }
    Ok(())
}

/// `hookline health`: one GET /readyz over plain HTTP/1.1 to the node's own address (no
/// client library: it talks to this machine only, and the guarded delivery client refuses
/// loopback by design).
async fn health(args: crate::config::HealthArgs, out: &Out) -> anyhow::Result<()> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let mut addr = args.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            IpAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        });
    }
    let (status, body) = tokio::time::timeout(args.timeout, probe(addr))
        .await
        .map_err(|_| anyhow::anyhow!("{addr}: no answer within {:?}", args.timeout))??;
    let answer: serde_json::Value =
        serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body.clone()));
    if status != 200 {
        anyhow::bail!("{addr} is not ready: HTTP {status} {body}");
    }
    out.answer(
        || format!("{addr} is ready: {body}"),
        serde_json::json!({"ready": true, "address": addr.to_string(), "answer": answer}),
    );
    Ok(())
}

async fn probe(addr: std::net::SocketAddr) -> anyhow::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let request = format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.take(64 * 1024).read_to_end(&mut answer).await?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("{addr} did not answer HTTP: {head:?}"))?;
    Ok((status, body.trim().to_owned()))
}

async fn migrate(url: &str, out: &Out) -> anyhow::Result<()> {
    let db = startup::open_database(url).await?;
    out.answer(
        || {
            format!(
                "migrations applied to {} ({})",
                startup::redact_url(url),
                db.backend_name()
            )
        },
        serde_json::json!({"migrated": true, "database": db.backend_name(), "url": startup::redact_url(url)}),
    );
    db.close().await;
    Ok(())
}

/// Turns a service error into a CLI message that lists every invalid field.
fn describe(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation { errors, .. } => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|f| format!("{}: {}", f.path, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

async fn user(cmd: UserCommand, out: &Out) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create {
            email, role, db, ..
        } => {
            let password = read_password_line()?;
            let db = startup::open_database(&db.url).await?;
            let users = Users::new(db.clone());
            let new = NewUser::parse(&email, password, role.as_str()).map_err(describe)?;
            let created = users.create(&Actor::cli(), new).await.map_err(describe)?;
            out.answer(
                || {
                    format!(
                        "created {} {} ({})",
                        created.role, created.email, created.id
                    )
                },
                user_json(&created),
            );
            db.close().await;
        }
        UserCommand::List { db } => {
            let db = startup::open_database(&db.url).await?;
            let users = Users::new(db.clone())
                .list(&Actor::cli())
                .await
                .map_err(describe)?;
            out.answer(
                || {
                    let mut t =
                        format!("{:<40} {:<7} {:<24} LAST SIGN-IN", "EMAIL", "ROLE", "ADDED");
                    for u in &users {
                        t.push_str(&format!(
                            "\n{:<40} {:<7} {:<24} {}",
                            u.email,
                            u.role.as_str(),
                            app::time_fmt::utc(u.created_at),
                            u.last_login_at
                                .map(app::time_fmt::utc)
                                .unwrap_or_else(|| "never".into())
                        ));
                    }
                    t
                },
                users.iter().map(user_json).collect(),
            );
            db.close().await;
        }
        UserCommand::Delete { email, db } => {
            let db = startup::open_database(&db.url).await?;
            Users::new(db.clone())
                .delete_by_email(&Actor::cli(), &email)
                .await
                .map_err(describe)?;
            let email = email.trim().to_lowercase();
            out.answer(
                || format!("deleted {email}"),
                serde_json::json!({"deleted": email}),
            );
            db.close().await;
        }
    }
    Ok(())
}

/// The first line of standard input, without its line ending.
fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        anyhow::bail!("--password-stdin: no password on standard input");
    }
    Ok(password)
}

async fn api_key(cmd: ApiKeyCommand, out: &Out) -> anyhow::Result<()> {
    match cmd {
        ApiKeyCommand::Create { name, scope, db } => {
            let db = startup::open_database(&db.url).await?;
            let keys = app::backend::access::api_keys::ApiKeys::new(db.clone());
            let created = keys
                .create(&Actor::cli(), &name, scope)
                .await
                .map_err(describe)?;
            out.answer(
                || {
                    format!(
                        "created {} API key '{}' ({}); it is shown only now:\n{}",
                        created.api_key.scope.as_str(),
                        created.api_key.name,
                        created.api_key.id,
                        created.key
                    )
                },
                json_of(&created),
            );
            db.close().await;
        }
        ApiKeyCommand::List { db } => {
            let db = startup::open_database(&db.url).await?;
            let keys = app::backend::access::api_keys::ApiKeys::new(db.clone());
            let listed = keys.list(&Actor::cli()).await.map_err(describe)?;
            out.answer(
                || {
                    let mut t = format!(
                        "{:<32} {:<24} {:<8} {:<13} {:<24} STATUS",
                        "ID", "NAME", "SCOPE", "PREFIX", "LAST USED"
                    );
                    for k in &listed {
                        t.push_str(&format!(
                            "\n{:<32} {:<24} {:<8} {:<13} {:<24} {}",
                            k.id,
                            k.name,
                            k.scope.as_str(),
                            k.prefix,
                            k.last_used_at
                                .map(|t| app::time_fmt::utc(t.0))
                                .unwrap_or_else(|| "never".into()),
                            if k.revoked_at.is_some() {
                                "revoked"
                            } else {
                                "active"
                            }
                        ));
                    }
                    t
                },
                json_of(&listed),
            );
            db.close().await;
        }
        ApiKeyCommand::Revoke { id, db } => {
            let db = startup::open_database(&db.url).await?;
            let keys = app::backend::access::api_keys::ApiKeys::new(db.clone());
            let key = keys
                .revoke(
                    &Actor::cli(),
                    &app::types::ids::ApiKeyId::parse(&id).map_err(|e| describe(e.into()))?,
                )
                .await
                .map_err(describe)?;
            out.answer(
                || format!("revoked {} ({})", key.id, key.name),
                json_of(&key),
            );
            db.close().await;
        }
    }
    Ok(())
}

async fn secrets(cmd: SecretsCommand, out: &Out) -> anyhow::Result<()> {
    let SecretsCommand::RotateKey {
        new_key_file,
        keys,
        db,
    } = cmd;
    let current = crate::keys::master_key(&keys, &db.url, false)?;
    let (new, created) = app::backend::crypto::MasterKey::read_or_create_file(&new_key_file)?;
    if new.id() == current.id() {
        anyhow::bail!(
            "--new-key-file {} holds the current master key ({}): give a new one",
            new_key_file.display(),
            current.id()
        );
    }
    let (from, to) = (current.id().to_string(), new.id().to_string());
    let database = startup::open_database(&db.url).await?;
    let endpoints = app::backend::endpoints::Endpoints::new(
        database.clone(),
        std::sync::Arc::new(app::backend::crypto::Keyring::new(current)),
    );
    let done = endpoints.rotate_master_key(new).await;
    database.close().await;
    let done = done.context("re-encrypting under the new master key (nothing was changed)")?;
    out.answer(
        || {
            format!(
                "re-encrypted {} endpoint credentials and {} signing secrets: master key {from} -> {to}{}\n\
                 start every server with the new key now: --master-key-file {} (or HOOKLINE_MASTER_KEY set to its contents); the old key no longer opens anything",
                done.credentials,
                done.signing_secrets,
                if created {
                    format!(" (new key written to {})", new_key_file.display())
                } else {
                    String::new()
                },
                new_key_file.display()
            )
        },
        serde_json::json!({
            "credentials": done.credentials,
            "signing_secrets": done.signing_secrets,
            "from": from,
            "to": to,
            "new_key_file": new_key_file.display().to_string(),
            "new_key_file_created": created,
        }),
    );
    Ok(())
}
