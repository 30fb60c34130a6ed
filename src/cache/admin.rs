//! `loa cache stats` and `loa cache prune --older-than` over any
//! [`Storage`]: counts and deletions from a streamed listing, so a bucket
//! of millions of objects is never held in memory. (The disk store has its
//! own locked, usage-keeping versions in [`super::disk`]; these serve the
//! object store and class-filtered prunes.)

use std::collections::BTreeMap;
use std::time::SystemTime;

use futures::TryStreamExt;

use super::{CacheError, Class, Pruned, Stats, Storage};

/// Deletions in flight at once during a prune.
const DELETE_CONCURRENCY: usize = 8;

/// Objects and bytes by class and extension (`max_bytes` 0: no cap).
pub async fn stats(store: &dyn Storage) -> Result<Stats, CacheError> {
    let mut by: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for class in Class::ALL {
        let mut listing = store.list_stream(class);
        while let Some(m) = listing.try_next().await? {
            let s = by.entry((class.prefix().to_string(), m.name.ext.as_str().to_string())).or_default();
            s.0 += 1;
            s.1 += m.size;
        }
    }
    Ok(Stats {
        objects: by.values().map(|v| v.0).sum(),
        bytes: by.values().map(|v| v.1).sum(),
        max_bytes: 0,
        by_kind: by.into_iter().map(|((c, x), (n, b))| (c, x, n, b)).collect(),
    })
}

/// Delete every object of `classes` last written before `cutoff` (the
/// object store keeps no read times, so on it this is the write time; the
/// disk store's reads refresh it).
pub async fn prune_older_than(
    store: &dyn Storage,
    cutoff: SystemTime,
    classes: &[Class],
) -> Result<Pruned, CacheError> {
    let mut report = Pruned::default();
    for class in Class::ALL {
        let selected = classes.contains(&class);
        report = store
            .list_stream(class)
            .map_ok(|m| async move {
                if selected && m.modified < cutoff {
                    store.delete(&m.name).await.map(|gone| (gone, m.size))
                } else {
                    Ok((false, m.size))
                }
            })
            .try_buffer_unordered(DELETE_CONCURRENCY)
            .try_fold(report, |mut r, (gone, size)| async move {
                if gone {
                    r.removed += 1;
                    r.freed_bytes += size;
                } else {
                    r.remaining_bytes += size;
                }
                Ok(r)
            })
            .await?;
    }
    Ok(report)
}
