//! The fixes a recurring series needs after a round (its master fetched, its instances
//! reconciled), each committed with the view's pending lists in one transaction.

use super::{PageOutcome, Store, StoreError, Writer};
use crate::model::Event;

impl Store {
    /// Stores a series master fetched after a round; its stubs show from now on.
    pub fn save_master(&self, view: &str, master: &Event) -> Result<PageOutcome, StoreError> {
        self.fix_series(
            view,
            &master.id,
            |writer| writer.put_master(master),
            true,
            false,
        )
    }

    /// Removes a series the server no longer has: its master and every instance.
    pub fn drop_series(&self, view: &str, master: &str) -> Result<PageOutcome, StoreError> {
        self.fix_series(
            view,
            master,
            |writer| writer.remove_series(master),
            true,
            true,
        )
    }

    /// Makes a series' cached instances exactly `instances` (the server's list for the window):
    /// the real service reports no deleted occurrence, so this is how one goes.
    pub fn reconcile_series(
        &self,
        view: &str,
        master: &str,
        instances: &[Event],
    ) -> Result<PageOutcome, StoreError> {
        self.fix_series(
            view,
            master,
            |writer| {
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
                Ok(())
            },
            false,
            true,
        )
    }

    /// Runs one fix of a series in a transaction of its own, and takes the series off the view's
    /// pending lists it names, in the same transaction.
    fn fix_series(
        &self,
        view: &str,
        master: &str,
        fix: impl FnOnce(&mut Writer<'_, '_>) -> Result<(), StoreError>,
        master_done: bool,
        instances_done: bool,
    ) -> Result<PageOutcome, StoreError> {
        let txn = self.write()?;
        let Some(mut state) = self.state_in(&txn, view)? else {
            return Ok(PageOutcome::default());
        };
        let mut writer = Writer::open(self, &txn, view, state.generation)?;
        fix(&mut writer)?;
        let outcome = writer.finish()?;
        if master_done {
            state.pending_masters.remove(master);
        }
        if instances_done {
            state.pending_instances.remove(master);
        }
        self.save_state_in(&txn, view, &state)?;
        txn.commit().map_err(|e| self.err(e))?;
        Ok(outcome)
    }
}
