//! What the three pre-instantiated worlds have in common: construction from
//! an `InstancePre` and the `metadata` export.

use std::future::Future;

use wasmtime::Store;
use wasmtime::component::InstancePre;

use crate::bindings::v0_1_0::bidder::ralph::plugin::types::Metadata;
use crate::bindings::v0_1_0::{bidder, check, specialist};
use crate::sandbox::SandboxState;

/// A pre-instantiated component of one world.
pub trait WorldPre: Sized + Send + Sync + 'static {
    /// Checks the exports' types and wraps the pre-instance.
    fn new(pre: InstancePre<SandboxState>) -> wasmtime::Result<Self>;

    /// Instantiates into `store` and calls `metadata`.
    fn metadata<'a>(
        &'a self,
        store: &'a mut Store<SandboxState>,
    ) -> impl Future<Output = wasmtime::Result<Metadata>> + Send + 'a;
}

impl WorldPre for bidder::BidderPre<SandboxState> {
    fn new(pre: InstancePre<SandboxState>) -> wasmtime::Result<Self> {
        bidder::BidderPre::new(pre)
    }

    async fn metadata(&self, store: &mut Store<SandboxState>) -> wasmtime::Result<Metadata> {
        let instance = self.instantiate_async(&mut *store).await?;
        instance.call_metadata(&mut *store).await
    }
}

impl WorldPre for specialist::SpecialistPre<SandboxState> {
    fn new(pre: InstancePre<SandboxState>) -> wasmtime::Result<Self> {
        specialist::SpecialistPre::new(pre)
    }

    async fn metadata(&self, store: &mut Store<SandboxState>) -> wasmtime::Result<Metadata> {
        let instance = self.instantiate_async(&mut *store).await?;
        instance.call_metadata(&mut *store).await
    }
}

impl WorldPre for check::CheckPre<SandboxState> {
    fn new(pre: InstancePre<SandboxState>) -> wasmtime::Result<Self> {
        check::CheckPre::new(pre)
    }

    async fn metadata(&self, store: &mut Store<SandboxState>) -> wasmtime::Result<Metadata> {
        let instance = self.instantiate_async(&mut *store).await?;
        instance.call_metadata(&mut *store).await
    }
}
