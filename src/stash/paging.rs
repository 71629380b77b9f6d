//! Reading a big list from Stash one page at a time.
//!
//! Stash pages with `LIMIT/OFFSET` and, without a `sort`, with no `ORDER BY` at all, so pages
//! can overlap or skip rows. Every page here is sorted, and never `per_page: -1`: one answer
//! holding a whole library is known to fail at 100k scenes.

use crate::graphql::ApiError;

/// What Stash sorts a list by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Numeric id: stable while rows change, the default for walking a whole list.
    Id,
    /// Last update time.
    UpdatedAt,
}

impl SortKey {
    /// The name `FindFilterType.sort` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Id => "id",
            SortKey::UpdatedAt => "updated_at",
        }
    }
}

/// One page request: Stash's `FindFilterType` restricted to what paging needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindFilter {
    /// 1-based page number.
    pub page: i64,
    /// Rows per page (never -1).
    pub per_page: i64,
    /// Sort key; always sent.
    pub sort: SortKey,
    /// Ascending when true.
    pub ascending: bool,
}

impl FindFilter {
    /// Rows per page StashHog asks for: big enough to be cheap per row, small enough to keep
    /// each answer (and memory) small.
    pub(crate) const DEFAULT_PER_PAGE: i64 = 500;

    /// Ascending by `sort`, first page, default size.
    pub fn sorted(sort: SortKey) -> Self {
        FindFilter { page: 1, per_page: Self::DEFAULT_PER_PAGE, sort, ascending: true }
    }
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// How many rows match in all, as Stash counted them for this page.
    pub total: u64,
}

type Fetch<'a, T> = Box<dyn FnMut(&FindFilter) -> Result<(u64, Vec<T>), ApiError> + 'a>;

/// An iterator of pages; stops after a short page or at the first error.
pub struct Pages<'a, T> {
    fetch: Fetch<'a, T>,
    filter: FindFilter,
    done: bool,
}

impl<'a, T> Pages<'a, T> {
    /// Pages fetched by `fetch`, starting at `filter.page`.
    pub fn new(filter: FindFilter, fetch: impl FnMut(&FindFilter) -> Result<(u64, Vec<T>), ApiError> + 'a) -> Self {
        let filter = FindFilter { per_page: filter.per_page.max(1), ..filter };
        Pages { fetch: Box::new(fetch), filter, done: false }
    }
}

impl<T> Iterator for Pages<'_, T> {
    type Item = Result<Page<T>, ApiError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match (self.fetch)(&self.filter) {
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
            Ok((total, items)) => {
                let number = self.filter.page;
                let seen = (number - 1) * self.filter.per_page + items.len() as i64;
                self.done = (items.len() as i64) < self.filter.per_page || seen as u64 >= total;
                self.filter.page += 1;
                if items.is_empty() && number > 1 {
                    return None;
                }
                Some(Ok(Page { items, total }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_pages_until_a_short_one() {
        let rows: Vec<i64> = (1..=7).collect();
        let mut requests = Vec::new();
        let pages = Pages::new(FindFilter { per_page: 3, ..FindFilter::sorted(SortKey::Id) }, |f| {
            requests.push(f.clone());
            let start = ((f.page - 1) * f.per_page) as usize;
            Ok((7, rows.iter().skip(start).take(f.per_page as usize).copied().collect()))
        });
        let got: Vec<Vec<i64>> = pages.map(|p| p.map(|p| p.items)).collect::<Result<_, _>>().expect("no error");
        assert_eq!(got, vec![vec![1, 2, 3], vec![4, 5, 6], vec![7]]);
        assert_eq!(requests.len(), 3);
        assert!(requests.iter().all(|f| f.sort == SortKey::Id && f.per_page == 3));
    }

    #[test]
    fn exact_multiple_needs_no_extra_request() {
        let mut calls = 0;
        let pages = Pages::new(FindFilter { per_page: 2, ..FindFilter::sorted(SortKey::Id) }, |_| {
            calls += 1;
            Ok((4, vec![1, 2]))
        });
        assert_eq!(pages.count(), 2);
        assert_eq!(calls, 2);
    }
}
