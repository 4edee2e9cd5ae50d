//! No environment variable reaches a plugin. Alone in its own test binary
//! because it sets a variable in the test process.

mod common;

use common::{TestResult, hostile, repository, request, runtime, tight_limits};

#[test]
fn environment_variables_do_not_reach_the_plugin() -> TestResult {
    #[allow(unsafe_code)]
    // SAFETY: this is the only test in this binary and no other thread has
    // started yet, so nothing reads the environment concurrently.
    unsafe {
        std::env::set_var("RALPH_TEST_SECRET", "hunter2-secret-value");
    }
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    tokio.block_on(async {
        let repository = repository()?;
        let runtime = runtime(repository.path())?;
        let bidder = hostile(&runtime, &[], tight_limits()).await?;
        let outcome = runtime
            .propose(&bidder, &request("environment", ""))
            .await?;
        assert_eq!(outcome.value.summary, "environment: []");
        Ok(())
    })
}
