//! Cache lookups counted for `/metrics`, per tier and class. Every
//! [`Cache::get`](super::Cache::get) counts one lookup in each tier it
//! consults — the local disk store first, then, on a miss there, the object
//! store behind it — with its result, and the bytes a hit served, through
//! the `metrics` macros (which cost next to nothing unless the server
//! installed its recorder):
//!
//! * `loa_cache_lookups_total{tier,class,result}`: `tier` is `local` or
//!   `store`, `class` is `pregenerated`, `on_demand` or `plans`, `result`
//!   is `hit` or `miss`; a tier's hit ratio is its hits over its lookups;
//! * `loa_cache_hit_bytes_total{tier,class}`: bytes served by hits, counted
//!   in the tier that held the object.

use super::{Class, Object};

/// A place the cache looks objects up in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// The disk store: the whole cache, or the tier in front of a remote store.
    Local,
    /// The object store behind the local tier.
    Store,
}

impl Tier {
    /// The `tier` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Local => "local",
            Tier::Store => "store",
        }
    }
}

/// Count one lookup of a `class` object in `tier`: a hit when `found`.
pub(super) fn record(tier: Tier, class: Class, found: Option<&Object>) {
    let (tier, class) = (tier.as_str(), class.label());
    let result = if found.is_some() { "hit" } else { "miss" };
    metrics::counter!("loa_cache_lookups_total", "tier" => tier, "class" => class, "result" => result)
        .increment(1);
    if let Some(obj) = found {
        metrics::counter!("loa_cache_hit_bytes_total", "tier" => tier, "class" => class).increment(obj.len());
    }
}
