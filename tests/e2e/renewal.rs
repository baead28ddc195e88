//! Agent SVID renewal: the SVID a renewal replaced stays accepted until the next renewal, so an
//! agent that crashed before storing its renewed SVID is not locked out; after that it is refused.

use lanyard_proto::lanyard::agent::v1::sign_x509_svid_result::Result as Signed;
use tonic::Code;

use crate::agent::TestAgent;
use crate::harness::Server;
use crate::store::Store;

datastore_tests!(replaced_svid_is_accepted_until_the_next_renewal);

async fn replaced_svid_is_accepted_until_the_next_renewal(store: Store) {
    let server = Server::start(store).await;
    let (token, agent_id, _) = server.token(&[]).await;
    let mut agent = TestAgent::attest(&server, &token).await.unwrap();
    let entry = server
        .create_entry("spiffe://example.org/renewed", &agent_id)
        .await;
    let entry_id = entry["id"].as_str().unwrap();

    // The open connection keeps presenting the first SVID, which the renewal just replaced.
    agent.renew().await.unwrap();
    assert!(matches!(
        agent.sign_one(entry_id).await.unwrap(),
        Signed::Svid(_)
    ));

    // A second renewal (still presented with the first SVID) rolls the first one off.
    agent.renew().await.unwrap();
    let refused = agent.sign_one(entry_id).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(refused.message().contains("current SVID"), "{refused:?}");

    // A new connection presents the newest SVID and is served.
    agent.reconnect(&server);
    assert!(matches!(
        agent.sign_one(entry_id).await.unwrap(),
        Signed::Svid(_)
    ));
}
