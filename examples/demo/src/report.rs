pub fn summary(counts: &[u32]) -> String {
    let mut out = String::new();
    for (i, c) in counts.iter().enumerate() {
        let mut line = String::new();
        line.push_str(&format!("order {i}: {c} items"));
        out.push_str(&line);
        out.push('\n');
    }
    let label: Option<&str> = None;
    out.push_str(&label.map(|l| l.to_string()).unwrap_or(format!("{} orders", counts.len())));
    out
}

/// The customers with the most items, best first.
pub fn rank(totals: &[(String, u32)], limit: usize) -> Vec<String> {
    let mut sorted: Vec<(String, u32)> = totals.to_vec();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut names = Vec::new();
    for (name, count) in sorted.into_iter().take(limit) {
        if count > 0 {
            names.push(format!("{name} ({count})"));
        }
    }
    names
}
