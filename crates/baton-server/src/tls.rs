//! HTTPS (`--tls-cert`, `--tls-key`): rustls with ALPN, so browsers speak HTTP/2 and the
//! dashboard's live streams share one connection instead of using up the six a browser
//! allows per server over HTTP/1.1.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// The certificate chain and private key, PEM files.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn unreadable(what: &str, path: &Path, e: impl std::fmt::Display) -> baton_core::Error {
    baton_core::Error::invalid_with_hint(
        format!("cannot read the TLS {what} {}: {e}", path.display()),
        "give PEM files: --tls-cert fullchain.pem --tls-key privkey.pem",
    )
}

/// Reads the files and builds the acceptor (HTTP/2 and HTTP/1.1 offered by ALPN).
pub fn acceptor(files: &TlsFiles) -> baton_core::Result<TlsAcceptor> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| unreadable("certificate", &files.cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| unreadable("certificate", &files.cert, e))?;
    if certs.is_empty() {
        return Err(unreadable(
            "certificate",
            &files.cert,
            "no certificate in it",
        ));
    }
    let key =
        PrivateKeyDer::from_pem_file(&files.key).map_err(|e| unreadable("key", &files.key, e))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| baton_core::Error::Internal(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            baton_core::Error::invalid_with_hint(
                format!("the TLS certificate and key do not work together: {e}"),
                "check that the key is the certificate's own",
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` over TLS on `listener` until `until` says stop; then waits for the
/// connections in flight to finish.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    mut until: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // A refused or reset connection does not stop the server.
                Err(_) => continue,
            },
            _ = until.wait_for(|stop| *stop) => break,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else {
                return; // a failed handshake is the client's problem
            };
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(ConnectInfo::<SocketAddr>(remote));
                    app.clone().oneshot(request.map(axum::body::Body::new))
                },
            );
            let builder = Builder::new(TokioExecutor::new());
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let _ = watcher.watch(connection.into_owned()).await;
        });
    }
    graceful.shutdown().await;
    Ok(())
}
