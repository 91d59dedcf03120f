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
