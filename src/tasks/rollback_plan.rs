//! Mode `rollback_plan` — task "Roll back last applied plan": undoes what a plan did.
//!
//! Steps: pick the plan (`plan_id`, default the one applied last) → take its lock (refused
//! while another run applies or rolls it back) → settle what a killed run left in flight → per
//! page of scenes, newest first, check that Stash still holds the value the plan put there (else
//! report a conflict and leave the user's edit alone) → send the inverse (REMOVE what was ADDed,
//! ADD what was REMOVEd, SET back what was SET) through the same journal as apply → with
//! `delete_created=true`, delete the tags, performers and studios the plan created that nothing
//! uses any more (no scene, image, gallery or group; no performer, studio, scene marker or
//! related tag for a tag; no child studio for a studio), keep and list the rest → mark the plan
//! rolled back. Without it everything created is kept: a name the user
//! may have started using elsewhere is not StashHog's to delete unasked.

use super::plan_run::{self, BATCH_SIZE, DELETE_CREATED, DRY_RUN};
use super::plans::PLAN_ID;
use super::{Context, Outcome};
use crate::plans::Direction;
use crate::protocol::args::ArgSpec;

/// What `rollback_plan` takes.
pub const ARGS: &[ArgSpec] = &[PLAN_ID, DRY_RUN, DELETE_CREATED, BATCH_SIZE];

/// Reverts the applied changes of the chosen plan.
pub fn run(cx: &mut Context) -> anyhow::Result<Outcome> {
    let options = plan_run::options(&cx.session.args, Direction::Rollback)?;
    let (plan, taken) = plan_run::choose_plan(cx, Direction::Rollback)?;
    let mut outcome = plan_run::run(cx, plan, options)?;
    outcome.output["plan_taken"] = taken.into();
    Ok(outcome)
}
