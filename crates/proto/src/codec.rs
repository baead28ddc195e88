//! [`LeanCodec`]: the prost codec every generated client and server here uses, with smaller
//! per-call buffers than tonic's default.
//!
//! tonic gives each call an encode buffer (and each streaming response a decode buffer) of
//! `buffer_size` bytes up front, 8 KiB by default, kept for the life of the stream. Lanyard holds
//! many long-lived streams whose messages are mostly small (an agent serves a `FetchX509SVID`
//! stream per workload; a server holds a `Sync` stream per agent), so those buffers were a large
//! share of memory per stream in the heap profiles (docs/benchmarks.md). A buffer grows on demand
//! when a message is larger, so only the initial size changes; the wire format is the same.

use tonic::codec::{BufferSettings, Codec};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// Initial size of a call's encode and decode buffers.
pub const BUFFER_SIZE: usize = 1024;
/// Encoded bytes a stream may buffer before yielding them to the transport (tonic's default).
pub const YIELD_THRESHOLD: usize = 32 * 1024;

fn settings() -> BufferSettings {
    BufferSettings::new(BUFFER_SIZE, YIELD_THRESHOLD)
}

/// prost encoding and decoding with [`BUFFER_SIZE`] initial buffers. Named by `cargo xtask
/// codegen` as the codec of every generated method.
#[derive(Debug)]
pub struct LeanCodec<T, U>(std::marker::PhantomData<(T, U)>);

impl<T, U> Default for LeanCodec<T, U> {
    fn default() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<T, U> Codec for LeanCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(settings())
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstCodec::<T, U>::raw_decoder(settings())
    }
}
