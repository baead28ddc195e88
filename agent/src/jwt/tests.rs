//! The minter against a fake server that counts `MintJwtSvids` calls and answers only when told
//! to, so concurrent requests can be lined up behind one mint.

use std::net::SocketAddr;
use std::pin::Pin;

use lanyard_id::SpiffeId;
use lanyard_proto::lanyard::agent::v1::agent_service_server::{AgentService, AgentServiceServer};
use lanyard_proto::lanyard::types::v1 as types;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::*;

/// How the fake server answers `MintJwtSvids`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    Tokens,
    Unavailable,
}

#[derive(Clone)]
struct FakeServer {
    /// Calls so far.
    calls: Arc<watch::Sender<usize>>,
    /// Calls are answered once this is true.
    release: watch::Receiver<bool>,
    answer: Answer,
}

type Unused<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl AgentService for FakeServer {
    type AttestStream = Unused<pb::AttestResponse>;
    type SyncStream = Unused<pb::SyncMessage>;

    async fn attest(
        &self,
        _: Request<tonic::Streaming<pb::AttestRequest>>,
    ) -> Result<Response<Self::AttestStream>, Status> {
        Err(Status::unimplemented("fake"))
    }
    async fn renew_agent(
        &self,
        _: Request<pb::RenewAgentRequest>,
    ) -> Result<Response<pb::RenewAgentResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }
    async fn sync(
        &self,
        _: Request<pb::SyncRequest>,
    ) -> Result<Response<Self::SyncStream>, Status> {
        Err(Status::unimplemented("fake"))
    }
    async fn batch_sign_x509_svids(
        &self,
        _: Request<pb::BatchSignX509SvidsRequest>,
    ) -> Result<Response<pb::BatchSignX509SvidsResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }
    async fn mint_jwt_svids(
        &self,
        request: Request<pb::MintJwtSvidsRequest>,
    ) -> Result<Response<pb::MintJwtSvidsResponse>, Status> {
        let mut call = 0;
        self.calls.send_modify(|n| {
            *n += 1;
            call = *n;
        });
        let _ = self.release.clone().wait_for(|r| *r).await;
        if self.answer == Answer::Unavailable {
            return Err(Status::unavailable("the fake server is down"));
        }
        let exp = i64::try_from(
            SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .unwrap()
            + 300;
        let results = request
            .into_inner()
            .entry_ids
            .into_iter()
            .map(|entry_id| pb::MintJwtSvidResult {
                result: Some(pb::mint_jwt_svid_result::Result::Svid(types::JwtSvid {
                    token: format!("{}-{entry_id}-{call}", token_for("k1")),
                    spiffe_id: "spiffe://example.org/w".to_owned(),
                    expires_at: exp,
                })),
                entry_id,
            })
            .collect();
        Ok(Response::new(pb::MintJwtSvidsResponse { results }))
    }
}

/// A token-shaped string whose header names `kid`.
fn token_for(kid: &str) -> String {
    use base64::Engine as _;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!(r#"{{"alg":"ES256","kid":"{kid}"}}"#));
    format!("{header}.e30.c2ln")
}

struct Fixture {
    minter: JwtMinter,
    calls: watch::Receiver<usize>,
    release: watch::Sender<bool>,
}

impl Fixture {
    async fn start(answer: Answer) -> Fixture {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (calls, calls_rx) = watch::channel(0);
        let (release, release_rx) = watch::channel(false);
        let fake = FakeServer {
            calls: Arc::new(calls),
            release: release_rx,
            answer,
        };
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(AgentServiceServer::new(fake))
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect_lazy();
        let minter = JwtMinter::new();
        minter.set_server(Some(AgentServiceClient::new(channel)));
        Fixture {
            minter,
            calls: calls_rx,
            release,
        }
    }

    /// Waits until the server has seen `calls` calls and callers have joined another's mint
    /// `followers` times.
    async fn wait_for(&self, calls: usize, followers: usize) {
        let mut followed = self.minter.state().followers.subscribe();
        let mut called = self.calls.clone();
        tokio::time::timeout(Duration::from_secs(10), async {
            followed.wait_for(|n| *n >= followers).await.unwrap();
            called.wait_for(|n| *n >= calls).await.unwrap();
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "waited for {calls} calls and {followers} followers; saw {} and {}",
                *self.calls.borrow(),
                *self.minter.state().followers.borrow()
            )
        });
    }

    fn calls(&self) -> usize {
        *self.calls.borrow()
    }
}

fn svid(entry: &str) -> Arc<WorkloadSvid> {
    Arc::new(WorkloadSvid {
        entry_id: entry.into(),
        spiffe_id: SpiffeId::parse("spiffe://example.org/w").unwrap(),
        selectors: vec![],
        hint: String::new(),
        chain: vec![],
        key_pkcs8: Default::default(),
        not_after: SystemTime::now(),
        created_at: 0,
        federates_with: Vec::new(),
    })
}

fn spawn_tokens(
    minter: &JwtMinter,
    entry: &str,
    audience: &str,
) -> tokio::task::JoinHandle<Result<Vec<MintedToken>, MintError>> {
    let (minter, svid, audience) = (minter.clone(), svid(entry), audience.to_owned());
    tokio::spawn(async move { minter.tokens(&[svid], &[audience]).await })
}

#[tokio::test]
async fn without_a_server_nothing_can_be_minted() {
    let minter = JwtMinter::new();
    let err = minter
        .tokens(&[svid("e1")], &["a".to_owned()])
        .await
        .unwrap_err();
    assert_eq!(err, MintError::NoServer);
    assert!(minter.state().flights.is_empty());
}

#[tokio::test]
async fn concurrent_misses_for_one_key_mint_once() {
    const N: usize = 8;
    let f = Fixture::start(Answer::Tokens).await;
    let waiting: Vec<_> = (0..N)
        .map(|_| spawn_tokens(&f.minter, "e1", "api"))
        .collect();
    // Another audience set is another token: minted on its own.
    let other = spawn_tokens(&f.minter, "e1", "db");
    f.wait_for(2, N - 1).await;
    f.release.send_replace(true);

    let mut tokens = BTreeSet::new();
    for task in waiting {
        let got = task.await.unwrap().unwrap();
        assert_eq!(got.len(), 1);
        tokens.insert(got[0].token.to_string());
    }
    assert_eq!(tokens.len(), 1, "every caller got the one minted token");
    let other = other.await.unwrap().unwrap();
    assert!(!tokens.contains(&*other[0].token));
    assert_eq!(f.calls(), 2, "one mint per key, however many callers");

    // And it is cached.
    let again = f
        .minter
        .tokens(&[svid("e1")], &["api".to_owned()])
        .await
        .unwrap();
    assert!(tokens.contains(&*again[0].token));
    assert_eq!(f.calls(), 2);
    assert!(f.minter.state().flights.is_empty(), "every flight landed");
}

#[tokio::test]
async fn a_failure_is_shared_but_not_cached() {
    const N: usize = 5;
    let f = Fixture::start(Answer::Unavailable).await;
    let waiting: Vec<_> = (0..N)
        .map(|_| spawn_tokens(&f.minter, "e1", "api"))
        .collect();
    f.wait_for(1, N - 1).await;
    f.release.send_replace(true);
    for task in waiting {
        let err = task.await.unwrap().unwrap_err();
        assert!(
            matches!(&err, MintError::Server(m) if m.contains("the fake server is down")),
            "{err:?}"
        );
    }
    assert_eq!(f.calls(), 1, "the failure was shared");

    let err = f
        .minter
        .tokens(&[svid("e1")], &["api".to_owned()])
        .await
        .unwrap_err();
    assert!(matches!(err, MintError::Server(_)), "{err:?}");
    assert_eq!(
        f.calls(),
        2,
        "the failure was not cached: the next request asked again"
    );
}

#[tokio::test]
async fn a_waiting_caller_takes_over_when_the_minting_one_goes_away() {
    let f = Fixture::start(Answer::Tokens).await;
    let leader = spawn_tokens(&f.minter, "e1", "api");
    f.wait_for(1, 0).await;
    let follower = spawn_tokens(&f.minter, "e1", "api");
    f.wait_for(1, 1).await;
    // The leader's client hangs up mid-call.
    leader.abort();
    assert!(leader.await.unwrap_err().is_cancelled());
    f.wait_for(2, 1).await;
    f.release.send_replace(true);
    let got = tokio::time::timeout(Duration::from_secs(10), follower)
        .await
        .expect("the follower was left waiting")
        .unwrap()
        .unwrap();
    assert_eq!(got.len(), 1);
    assert!(f.minter.state().flights.is_empty());
}
