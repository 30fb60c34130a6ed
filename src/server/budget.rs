//! Daily character budgets of paid voices (`max_chars_per_day` and
//! `max_chars_per_client_per_day` in the voice file).
//!
//! When the service plans an article for a voice with a budget, the spoken
//! characters of its sentences that are not cached yet (what synthesizing
//! it will send to the engine) are charged to the voice and to the client.
//! If either budget would be exceeded, the article is planned with the
//! voice's `fallback` instead (its budget checked in turn), or refused
//! with 429 `budget_exhausted` when it has none. A whole article is read
//! by one voice, never half and half. Days are UTC days.
//!
//! The counters live in `budgets.json` in the cache directory, replaced
//! atomically (a temporary file renamed over it) after every charge, so a
//! restart keeps them; a write that fails is logged and retried with the
//! next charge. Charges are made before synthesis and not refunded when a
//! job fails, so the count errs on the side of the bill.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::client::Client;
use crate::tts::Budget;

/// The ledger's file name in the cache directory.
pub const FILE: &str = "budgets.json";

/// Clients counted one by one per voice; past that, new ones share one entry.
const MAX_CLIENTS: usize = 20_000;
const OTHERS: &str = "others";

/// Characters spent per voice, today.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ledger {
    /// Days since 1970-01-01, UTC.
    day: u64,
    voices: BTreeMap<String, Spent>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spent {
    chars: u64,
    clients: BTreeMap<String, u64>,
}

/// One voice's spending today, for the admin API.
#[derive(Debug, Clone, Serialize)]
pub struct VoiceSpending {
    pub voice: String,
    pub chars_today: u64,
    pub clients_today: usize,
}

/// The budgets' counters, shared by the handlers.
pub struct Budgets {
    path: Option<PathBuf>,
    ledger: Mutex<Ledger>,
    /// Generation of the last change, and of the last one written.
    changed: AtomicU64,
    written: Arc<Mutex<u64>>,
}

/// Days since the epoch, UTC.
fn today() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400)
}

/// Seconds until the next UTC day.
pub fn secs_to_tomorrow() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    86_400 - now % 86_400
}

impl Budgets {
    /// The counters kept in `dir/budgets.json` (read now if present; a
    /// damaged file is set aside with a `.damaged` suffix and logged).
    pub fn open(dir: &Path) -> Budgets {
        let path = dir.join(FILE);
        let ledger = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<Ledger>(&bytes) {
                Ok(l) => l,
                Err(e) => {
                    let aside = path.with_extension("json.damaged");
                    tracing::error!(file = %path.display(), error = %e, "voice budget counters are damaged; starting again from zero");
                    let _ = std::fs::rename(&path, aside);
                    Ledger::default()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ledger::default(),
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "cannot read the voice budget counters");
                Ledger::default()
            }
        };
        Budgets {
            path: Some(path),
            ledger: Mutex::new(ledger),
            changed: AtomicU64::new(0),
            written: Arc::new(Mutex::new(0)),
        }
    }

    /// Counters that are not kept anywhere (tests).
    pub fn in_memory() -> Budgets {
        Budgets {
            path: None,
            ledger: Mutex::new(Ledger::default()),
            changed: AtomicU64::new(0),
            written: Arc::new(Mutex::new(0)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        let mut l = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        let day = today();
        if l.day != day {
            *l = Ledger { day, voices: BTreeMap::new() };
        }
        l
    }

    /// Charge `chars` to `voice` and `client` if both budgets allow it;
    /// false (nothing charged) when one would be exceeded.
    pub fn try_charge(&self, voice: &str, budget: &Budget, client: Client, chars: u64) -> bool {
        let bytes = {
            let mut l = self.lock();
            let spent = l.voices.entry(voice.to_string()).or_default();
            let mut who = client.to_string();
            if !spent.clients.contains_key(&who) && spent.clients.len() >= MAX_CLIENTS {
                who = OTHERS.to_string();
            }
            let by_client = spent.clients.get(&who).copied().unwrap_or(0);
            let over_total = budget.max_chars_per_day.is_some_and(|m| spent.chars + chars > m);
            let over_client = budget.max_chars_per_client_per_day.is_some_and(|m| by_client + chars > m);
            if over_total || over_client {
                tracing::info!(voice, %client, chars, over_total, over_client, "voice budget would be exceeded");
                return false;
            }
            spent.chars += chars;
            *spent.clients.entry(who).or_insert(0) += chars;
            serde_json::to_vec(&*l).ok()
        };
        let generation = self.changed.fetch_add(1, Ordering::SeqCst) + 1;
        if let (Some(path), Some(bytes)) = (self.path.clone(), bytes) {
            let written = Arc::clone(&self.written);
            let write = move || persist(&path, &bytes, generation, &written);
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => drop(rt.spawn_blocking(write)),
                Err(_) => write(),
            }
        }
        true
    }

    /// Characters `voice` has spent today.
    pub fn spent(&self, voice: &str) -> u64 {
        self.lock().voices.get(voice).map_or(0, |s| s.chars)
    }

    /// Every voice's spending today.
    pub fn report(&self) -> Vec<VoiceSpending> {
        self.lock()
            .voices
            .iter()
            .map(|(v, s)| VoiceSpending {
                voice: v.clone(),
                chars_today: s.chars,
                clients_today: s.clients.len(),
            })
            .collect()
    }
}

/// Replace `path` with `bytes` unless a newer generation is written already.
fn persist(path: &Path, bytes: &[u8], generation: u64, written: &Mutex<u64>) {
    let mut last = written.lock().unwrap_or_else(|e| e.into_inner());
    if *last >= generation {
        return;
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let result = (|| -> std::io::Result<()> {
        let mut tmp = tempfile::Builder::new().prefix(".budgets-").suffix(".tmp").tempfile_in(dir)?;
        std::io::Write::write_all(tmp.as_file_mut(), bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    })();
    match result {
        Ok(()) => *last = generation,
        Err(e) => {
            tracing::error!(file = %path.display(), error = %e, "cannot save the voice budget counters")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(n: u8) -> Client {
        Client::Ip(std::net::IpAddr::from([192, 0, 2, n]))
    }

    #[test]
    fn total_and_per_client_budgets() {
        let b = Budgets::in_memory();
        let budget =
            Budget { max_chars_per_day: Some(100), max_chars_per_client_per_day: Some(60), fallback: None };
        assert!(b.try_charge("paid", &budget, client(1), 50));
        assert!(!b.try_charge("paid", &budget, client(1), 20), "client 1 would pass 60");
        assert!(b.try_charge("paid", &budget, client(2), 50));
        assert!(!b.try_charge("paid", &budget, client(3), 1), "the voice would pass 100");
        assert_eq!(b.spent("paid"), 100);
        assert!(b.try_charge("other", &budget, client(3), 1), "budgets are per voice");
    }

    #[test]
    fn counters_survive_a_restart_and_a_damaged_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let budget = Budget { max_chars_per_day: Some(10), ..Budget::default() };
        {
            let b = Budgets::open(dir.path());
            assert!(b.try_charge("paid", &budget, client(1), 7));
        }
        let b = Budgets::open(dir.path());
        assert_eq!(b.spent("paid"), 7);
        assert!(!b.try_charge("paid", &budget, client(2), 4));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary file left behind");
        std::fs::write(dir.path().join(FILE), b"{ not json").unwrap();
        let b = Budgets::open(dir.path());
        assert_eq!(b.spent("paid"), 0);
        assert!(dir.path().join("budgets.json.damaged").exists());
    }

    #[test]
    fn a_new_day_starts_from_zero() {
        let dir = tempfile::tempdir().unwrap();
        let old = Ledger {
            day: today() - 1,
            voices: [("paid".to_string(), Spent { chars: 999, clients: BTreeMap::new() })].into(),
        };
        std::fs::write(dir.path().join(FILE), serde_json::to_vec(&old).unwrap()).unwrap();
        assert_eq!(Budgets::open(dir.path()).spent("paid"), 0);
    }
}
