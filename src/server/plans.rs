//! Plans handed to players, so a per-sentence audio URL
//! (`/v1/speech/{key}/{index}.mp3`) can be synthesized on demand. Every plan
//! is also kept in the store (`Engine::save_plan`), so any instance and any
//! restart can answer its URLs; this is the in-memory copy of recent ones,
//! bounded by the text they hold, oldest forgotten first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::pipeline::Plan;

/// Plans by article key, oldest evicted first past `max_bytes` of text.
pub struct PlanStore {
    inner: Mutex<Inner>,
    max_bytes: usize,
}

#[derive(Default)]
struct Inner {
    plans: HashMap<String, (Arc<Plan>, usize)>,
    order: VecDeque<String>,
    bytes: usize,
}

fn plan_bytes(plan: &Plan) -> usize {
    plan.sentences().iter().map(|s| s.text.len() + s.spoken.len() + 160).sum::<usize>() + 256
}

impl PlanStore {
    pub fn new(max_bytes: usize) -> PlanStore {
        PlanStore { inner: Mutex::new(Inner::default()), max_bytes }
    }

    /// Remember `plan` (replacing one with the same key) and return it shared.
    pub fn insert(&self, plan: Arc<Plan>) -> Arc<Plan> {
        let size = plan_bytes(&plan);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = plan.key().to_string();
        if let Some((_, old_size)) = inner.plans.remove(&key) {
            inner.bytes -= old_size;
            inner.order.retain(|k| k != &key);
        }
        inner.bytes += size;
        inner.order.push_back(key.clone());
        inner.plans.insert(key, (Arc::clone(&plan), size));
        while inner.bytes > self.max_bytes && inner.order.len() > 1 {
            let Some(oldest) = inner.order.pop_front() else { break };
            if let Some((_, s)) = inner.plans.remove(&oldest) {
                inner.bytes -= s;
            }
        }
        plan
    }

    pub fn get(&self, key: &str) -> Option<Arc<Plan>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.plans.get(key).map(|(p, _)| Arc::clone(p))
    }

    /// Up to `n` plans, most recently remembered first.
    pub fn recent(&self, n: usize) -> Vec<Arc<Plan>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .order
            .iter()
            .rev()
            .take(n)
            .filter_map(|k| inner.plans.get(k).map(|(p, _)| Arc::clone(p)))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).plans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
