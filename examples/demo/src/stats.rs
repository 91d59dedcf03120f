//! Per-customer statistics: more slips for ferrolens (iteration, allocation, formatting).

pub fn histogram(quantities: &[u32]) -> Vec<usize> {
    let mut buckets = Vec::with_capacity(8);
    buckets.resize(8, 0);
    for i in 0..quantities.len() {
        let q = quantities[i] as usize;
        buckets[q.min(7)] += 1;
    }
    buckets
}

pub fn labels(names: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for n in names.iter() {
        out.push(n.to_uppercase());
    }
    out
}

pub fn banner() -> String {
    format!("== statistics ==")
}

/// The busiest customers first (copied from `report::rank` one day, and kept in step by hand since).
pub fn top_customers(counts: &[(String, u32)], n: usize) -> Vec<String> {
    let mut ordered: Vec<(String, u32)> = counts.to_vec();
    ordered.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out = Vec::new();
    for (customer, items) in ordered.into_iter().take(n) {
        if items > 0 {
            out.push(format!("{customer} ({items})"));
        }
    }
    out
}
