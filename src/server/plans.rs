//! Plans handed to players, kept in memory so a per-sentence audio URL
//! (`/v1/speech/{key}/{index}.mp3`) can be synthesized on demand. Bounded by
//! the total text they hold; the oldest are forgotten first (a player that
//! meets 404 simply asks for a new plan).

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
    plan.sentences.iter().map(|s| s.text.len() + s.spoken.len() + 64).sum::<usize>()
        + plan.sentence_keys.iter().map(|k| k.len() + 32).sum::<usize>()
        + 256
}

impl PlanStore {
    pub fn new(max_bytes: usize) -> PlanStore {
        PlanStore { inner: Mutex::new(Inner::default()), max_bytes }
    }

    /// Remember `plan` (replacing one with the same key) and return it shared.
    pub fn insert(&self, plan: Arc<Plan>) -> Arc<Plan> {
        let size = plan_bytes(&plan);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((old, old_size)) = inner.plans.remove(&plan.key) {
            inner.bytes -= old_size;
            inner.order.retain(|k| k != &old.key);
        }
        inner.bytes += size;
        inner.order.push_back(plan.key.clone());
        inner.plans.insert(plan.key.clone(), (Arc::clone(&plan), size));
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

    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).plans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
