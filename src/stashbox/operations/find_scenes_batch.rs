//! `FindScenesBatch`: up to 40 stash-box scenes by id in one request (aliased `findScene`s).

use graphql_client::GraphQLQuery;

use crate::graphql::{ApiError, Service, Transport, read_answer};
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
    // Unused slots carry a valid id but are switched off (`@include(if: false)`).
    let id = |i: usize| ids.get(i).unwrap_or(last).clone();
    let variables = find_scenes_batch::Variables {
        id0: id(0),
        use0: !ids.is_empty(),
        id1: id(1),
        use1: 1 < ids.len(),
        id2: id(2),
        use2: 2 < ids.len(),
        id3: id(3),
        use3: 3 < ids.len(),
        id4: id(4),
        use4: 4 < ids.len(),
        id5: id(5),
        use5: 5 < ids.len(),
        id6: id(6),
        use6: 6 < ids.len(),
        id7: id(7),
        use7: 7 < ids.len(),
        id8: id(8),
        use8: 8 < ids.len(),
        id9: id(9),
        use9: 9 < ids.len(),
        id10: id(10),
        use10: 10 < ids.len(),
        id11: id(11),
        use11: 11 < ids.len(),
        id12: id(12),
        use12: 12 < ids.len(),
        id13: id(13),
        use13: 13 < ids.len(),
        id14: id(14),
        use14: 14 < ids.len(),
        id15: id(15),
        use15: 15 < ids.len(),
        id16: id(16),
        use16: 16 < ids.len(),
        id17: id(17),
        use17: 17 < ids.len(),
        id18: id(18),
        use18: 18 < ids.len(),
        id19: id(19),
        use19: 19 < ids.len(),
        id20: id(20),
        use20: 20 < ids.len(),
        id21: id(21),
        use21: 21 < ids.len(),
        id22: id(22),
        use22: 22 < ids.len(),
        id23: id(23),
        use23: 23 < ids.len(),
        id24: id(24),
        use24: 24 < ids.len(),
        id25: id(25),
        use25: 25 < ids.len(),
        id26: id(26),
        use26: 26 < ids.len(),
        id27: id(27),
        use27: 27 < ids.len(),
        id28: id(28),
        use28: 28 < ids.len(),
        id29: id(29),
        use29: 29 < ids.len(),
        id30: id(30),
        use30: 30 < ids.len(),
        id31: id(31),
        use31: 31 < ids.len(),
        id32: id(32),
        use32: 32 < ids.len(),
        id33: id(33),
        use33: 33 < ids.len(),
        id34: id(34),
        use34: 34 < ids.len(),
        id35: id(35),
        use35: 35 < ids.len(),
        id36: id(36),
        use36: 36 < ids.len(),
        id37: id(37),
        use37: 37 < ids.len(),
        id38: id(38),
        use38: 38 < ids.len(),
        id39: id(39),
        use39: 39 < ids.len(),
    };
    Ok(lookups(transport.query::<FindScenesBatch>(variables)?, ids.len()))
}

/// Reads an answer (HTTP status and body) for `asked` ids exactly as a request's is read.
pub fn decode(status: u16, body: &str, asked: usize) -> Result<Vec<Lookup>, ApiError> {
    Ok(lookups(read_answer(&Service::StashBox("decode".into()), status, body)?, asked))
}

/// One [`Lookup`] per id asked, in order.
fn lookups(d: find_scenes_batch::ResponseData, asked: usize) -> Vec<Lookup> {
    let answers = [
        d.s0, d.s1, d.s2, d.s3, d.s4, d.s5, d.s6, d.s7, d.s8, d.s9, d.s10, d.s11, d.s12, d.s13, d.s14, d.s15, d.s16,
        d.s17, d.s18, d.s19, d.s20, d.s21, d.s22, d.s23, d.s24, d.s25, d.s26, d.s27, d.s28, d.s29, d.s30, d.s31, d.s32,
        d.s33, d.s34, d.s35, d.s36, d.s37, d.s38, d.s39,
    ];
    answers
        .into_iter()
        .take(asked)
        .map(|answer| match answer {
            None => Lookup::NotFound,
            Some(scene) if scene.deleted => Lookup::Deleted,
            Some(scene) => Lookup::Found(BoxScene {
                id: scene.id,
                tags: scene.tags.into_iter().map(|t| BoxTag { id: t.id, name: t.name }).collect(),
            }),
        })
        .collect()
}
