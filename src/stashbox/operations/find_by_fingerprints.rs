//! `FindScenesByFingerprints`: which stash-box scenes carry a local scene's fingerprints.

use graphql_client::GraphQLQuery;

use crate::graphql::{ApiError, Service, Transport, read_answer};
use crate::stash::Fingerprint;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stashbox/schema.graphql",
    query_path = "graphql/stashbox/find_by_fingerprints.graphql",
    response_derives = "Debug"
)]
struct FindScenesByFingerprints;

type FingerprintHash = String;

/// For each group of local fingerprints (OSHASH and PHASH; MD5 is ignored by stash-box and not
/// sent), the ids of the live stash-box scenes that carry one of them.
pub fn run(transport: &Transport, groups: &[Vec<Fingerprint>]) -> Result<Vec<Vec<String>>, ApiError> {
    use find_scenes_by_fingerprints::{FingerprintAlgorithm as A, FingerprintQueryInput};
    let fingerprints = groups
        .iter()
        .map(|group| {
            group
                .iter()
                .filter_map(|f| {
                    let algorithm = match f.kind.as_str() {
                        "oshash" => A::OSHASH,
                        "phash" => A::PHASH,
                        _ => return None,
                    };
                    Some(FingerprintQueryInput { hash: f.value.clone(), algorithm })
                })
                .collect()
        })
        .collect();
    let answer =
        transport.query::<FindScenesByFingerprints>(find_scenes_by_fingerprints::Variables { fingerprints })?;
    Ok(convert(answer, groups))
}

/// Reads an answer (HTTP status and body) for `groups` exactly as a request's is read.
pub fn decode(status: u16, body: &str, groups: &[Vec<Fingerprint>]) -> Result<Vec<Vec<String>>, ApiError> {
    Ok(convert(read_answer(&Service::StashBox("decode".into()), status, body)?, groups))
}

/// The generated answer as, per group, the live scenes whose fingerprints really are one of
/// ours.
fn convert(answer: find_scenes_by_fingerprints::ResponseData, groups: &[Vec<Fingerprint>]) -> Vec<Vec<String>> {
    answer
        .find_scenes_by_scene_fingerprints
        .into_iter()
        .zip(groups)
        .map(|(found, ours)| {
            found
                .into_iter()
                .flatten()
                .filter(|scene| !scene.deleted)
                // Hashes are hex numbers: stash-box pads them to 16 digits, Stash does not.
                .filter(|scene| {
                    scene.fingerprints.iter().any(|theirs| ours.iter().any(|mine| same_hash(&mine.value, &theirs.hash)))
                })
                .map(|scene| scene.id)
                .collect()
        })
        .collect()
}

/// Whether two hex hashes are the same number (`0f1` = `00000000000000f1`).
pub fn same_hash(a: &str, b: &str) -> bool {
    match (u64::from_str_radix(a.trim(), 16), u64::from_str_radix(b.trim(), 16)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.eq_ignore_ascii_case(b),
    }
}

#[cfg(test)]
mod tests {
    use super::same_hash;

    #[test]
    fn hashes_compare_as_numbers() {
        assert!(same_hash("f1", "00000000000000F1"));
        assert!(!same_hash("f1", "f2"));
        assert!(same_hash("not-hex", "NOT-HEX"));
    }
}
