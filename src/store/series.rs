//! The fixes a recurring series needs after a round (its master fetched, its instances
//! reconciled), committed with the view's pending lists in the same transaction.

use super::{PageOutcome, Store, StoreError, Writer};
use crate::model::Event;

/// What a round learnt about a series after its pages.
#[derive(Debug, Clone)]
pub enum SeriesFix {
    /// Its master, fetched: its stubs show from now on.
    Master(Box<Event>),
    /// Its instances in the window (the server's whole list): the real service reports no
    /// deleted occurrence, so this is how one goes.
    Instances(String, Vec<Event>),
    /// The server no longer has it: its master and every instance go.
    Gone(String),
}

impl SeriesFix {
    /// The series' master id.
    pub fn master(&self) -> &str {
        match self {
            SeriesFix::Master(master) => &master.id,
            SeriesFix::Instances(master, _) | SeriesFix::Gone(master) => master,
        }
    }
}

impl Store {
    /// Applies fixes of series in one transaction, and takes each series off the view's pending
    /// lists it names, in the same transaction. One transaction for many: the masters a full
    /// round fetched arrive by the thousand on a large calendar, and a transaction apiece would
    /// pay its fixed price (and fsync) for each.
    pub fn fix_series(&self, view: &str, fixes: &[SeriesFix]) -> Result<PageOutcome, StoreError> {
        self.run(|| {
            let txn = self.write()?;
            let Some(mut state) = self.state_in(&txn, view)? else {
                return Ok(PageOutcome::default());
            };
            let mut writer = Writer::open(self, &txn, view, state.cursor.generation)?;
            for fix in fixes {
                let master = fix.master();
                match fix {
                    SeriesFix::Master(event) => {
                        writer.put_master(event)?;
                        state.backlog.masters.remove(master);
                    }
                    SeriesFix::Gone(_) => {
                        writer.remove_series(master)?;
                        state.backlog.forget(master);
                    }
                    SeriesFix::Instances(_, instances) => {
                        let keep: std::collections::HashSet<&str> =
                            instances.iter().map(|e| e.id.as_str()).collect();
                        for id in writer.instance_ids(master)? {
                            if !keep.contains(id.as_str()) {
                                writer.remove(&id)?;
                            }
                        }
                        for instance in instances {
                            writer.upsert(instance)?;
                        }
                        state.backlog.instances.remove(master);
                    }
                }
            }
            let outcome = writer.finish()?;
            self.save_state_in(&txn, view, &state)?;
            self.note_change(&txn, view, outcome.range, false)?;
            txn.commit()?;
            Ok(outcome)
        })
    }
}
