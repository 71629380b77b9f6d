//! `FindScenesBatch`: up to 40 stash-box scenes by id in one request (aliased `findScene`s).

use graphql_client::GraphQLQuery;

use crate::graphql::{ApiError, Transport};
use crate::stashbox::{BoxScene, BoxTag, Lookup};

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stashbox/schema.graphql",
    query_path = "graphql/stashbox/find_scenes_batch.graphql",
    response_derives = "Debug"
)]
struct FindScenesBatch;

/// Ids per request.
pub const BATCH: usize = 40;

/// Looks up `ids` (1 to 40); the answer has one [`Lookup`] per id, in order.
pub fn run(transport: &Transport, ids: &[String]) -> Result<Vec<Lookup>, ApiError> {
    let Some(last) = ids.last() else { return Ok(Vec::new()) };
    let id = |i: usize| ids.get(i).unwrap_or(last).clone();
    let variables = find_scenes_batch::Variables {
        id0: id(0),
        id1: id(1),
        id2: id(2),
        id3: id(3),
        id4: id(4),
        id5: id(5),
        id6: id(6),
        id7: id(7),
        id8: id(8),
        id9: id(9),
        id10: id(10),
        id11: id(11),
        id12: id(12),
        id13: id(13),
        id14: id(14),
        id15: id(15),
        id16: id(16),
        id17: id(17),
        id18: id(18),
        id19: id(19),
        id20: id(20),
        id21: id(21),
        id22: id(22),
        id23: id(23),
        id24: id(24),
        id25: id(25),
        id26: id(26),
        id27: id(27),
        id28: id(28),
        id29: id(29),
        id30: id(30),
        id31: id(31),
        id32: id(32),
        id33: id(33),
        id34: id(34),
        id35: id(35),
        id36: id(36),
        id37: id(37),
        id38: id(38),
        id39: id(39),
    };
    let d = transport.query::<FindScenesBatch>(variables)?;
    let answers = [
        d.s0, d.s1, d.s2, d.s3, d.s4, d.s5, d.s6, d.s7, d.s8, d.s9, d.s10, d.s11, d.s12, d.s13, d.s14, d.s15, d.s16,
        d.s17, d.s18, d.s19, d.s20, d.s21, d.s22, d.s23, d.s24, d.s25, d.s26, d.s27, d.s28, d.s29, d.s30, d.s31, d.s32,
        d.s33, d.s34, d.s35, d.s36, d.s37, d.s38, d.s39,
    ];
    Ok(answers
        .into_iter()
        .take(ids.len())
        .map(|answer| match answer {
            None => Lookup::NotFound,
            Some(scene) if scene.deleted => Lookup::Deleted,
            Some(scene) => Lookup::Found(BoxScene {
                id: scene.id,
                tags: scene.tags.into_iter().map(|t| BoxTag { id: t.id, name: t.name }).collect(),
            }),
        })
        .collect())
}
